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

/// A rejection as the wire reports it: a code, a sentence a person can act on — in English
/// (`message`) and in Chinese (`message_zh`), both naming the field — and the path of the
/// offending field when there is one (`body.classes[2].children`).
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: WireErrorCode
    public var message: String
    public var messageZh: String
    public var path: String?

    /// - Parameter zh: the Chinese sentence; without one, the code's Chinese name, the path and
    ///   the English sentence (``WireErrorCode/chinese``).
    public init(_ code: WireErrorCode, _ message: String, zh: String? = nil, path: String? = nil) {
        self.code = code
        self.message = message
        self.messageZh = zh ?? Self.chinese(code, path: path, message: message)
        self.path = path
    }

    public var description: String {
        if let path { return "\(code.rawValue) at \(path): \(message)" }
        return "\(code.rawValue): \(message)"
    }

    /// The `error` member of a `nack` or `error` frame.
    public var json: JSONValue {
        var object: JSONObject = ["code": .string(code.rawValue), "message": .string(message), "message_zh": .string(messageZh)]
        if let path { object["path"] = .string(path) }
        return .object(object)
    }

    /// Reads the `error` member of a received `nack` or `error` frame.
    public init?(json: JSONValue?) {
        guard let json, let codeText = json["code"]?.stringValue else { return nil }
        self.code = WireErrorCode(rawValue: codeText) ?? .internal
        self.message = json["message"]?.stringValue ?? ""
        self.path = json["path"]?.stringValue
        self.messageZh = json["message_zh"]?.stringValue ?? Self.chinese(code, path: path, message: message)
    }

    /// `字段无效（body.year）：<English sentence>`: the Chinese form of a rejection nobody worded
    /// in Chinese (queries and subscriptions, which operators' tools send).
    static func chinese(_ code: WireErrorCode, path: String?, message: String) -> String {
        "\(code.chinese)\(path.map { "（\($0)）" } ?? "")：\(message)"
    }
}

extension WireErrorCode {
    /// What the code means, in Chinese.
    public var chinese: String {
        switch self {
        case .invalidFrame: "帧无效"
        case .frameTooLarge: "帧过大"
        case .malformedJSON: "不是合法的 JSON"
        case .invalidEnvelope: "信封无效"
        case .unsupportedVersion: "不支持的协议版本"
        case .unknownType: "未知类型"
        case .invalidField: "字段无效"
        case .unknownReference: "引用的镇街或机构未登记"
        case .forbidden: "无权操作"
        case .overloaded: "服务繁忙，请稍后重试"
        case .internal: "服务内部错误，请稍后重试"
        }
    }
}
