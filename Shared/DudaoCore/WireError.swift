/// The error codes of the wire contract (SPEC section 2), exactly as they appear on the wire.
public enum WireErrorCode: String, Sendable, CaseIterable {
    case invalidFrame = "invalid_frame"
    case frameTooLarge = "frame_too_large"
    case malformedJSON = "malformed_json"
    case invalidEnvelope = "invalid_envelope"
    case unsupportedVersion = "unsupported_version"
    case unknownType = "unknown_type"
    case invalidField = "invalid_field"
    case unknownReference = "unknown_reference"
    case forbidden = "forbidden"
    case overloaded = "overloaded"
    case `internal` = "internal"
}

/// A rejection as the wire reports it: a code, a sentence a person can act on, and the path of
/// the offending field when there is one (`body.classes[2].children`).
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: WireErrorCode
    public var message: String
    public var path: String?

    public init(_ code: WireErrorCode, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(code.rawValue) at \(path): \(message)" }
        return "\(code.rawValue): \(message)"
    }

    /// The `error` member of a `nack` or `error` frame.
    public var json: JSONValue {
        var object: JSONObject = ["code": .string(code.rawValue), "message": .string(message)]
        if let path { object["path"] = .string(path) }
        return .object(object)
    }

    /// Reads the `error` member of a received `nack` or `error` frame.
    public init?(json: JSONValue?) {
        guard let json, let codeText = json["code"]?.stringValue else { return nil }
        self.code = WireErrorCode(rawValue: codeText) ?? .internal
        self.message = json["message"]?.stringValue ?? ""
        self.path = json["path"]?.stringValue
    }
}
