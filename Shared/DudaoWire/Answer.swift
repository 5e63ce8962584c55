import DudaoCore

/// `status` of an `ack` (SPEC section 2): stored now, seen before, or older than what is stored.
public enum AckStatus: String, Sendable, CaseIterable {
    case accepted
    case duplicate
    case stale
}

/// A service's answer to a client's frame, decoded: the client side of ``Reply``. Clients switch
/// on this instead of reading `kind`, `status`, `body` and `error` by name.
public enum Answer: Sendable, Equatable {
    case ack(id: String, status: AckStatus)
    /// `id` is nil when the refused frame had no usable id.
    case nack(id: String?, error: WireError)
    case result(id: String, body: JSONValue)
    /// A stream-level error; the service closes the connection after it.
    case error(WireError)
    /// Anything else (a record or keepalive on a subscription, a frame this build cannot read),
    /// as received.
    case other(JSONValue)

    /// Decodes `frame`; a reply missing what its kind requires is ``other(_:)``.
    public init(_ frame: JSONValue) {
        let id = frame["id"]?.stringValue
        switch frame["kind"]?.stringValue.flatMap(Frame.Kind.init(rawValue:)) {
        case .ack:
            guard let id, let status = frame["status"]?.stringValue.flatMap(AckStatus.init(rawValue:)) else { break }
            self = .ack(id: id, status: status)
            return
        case .nack:
            guard let error = WireError(json: frame["error"]) else { break }
            self = .nack(id: id, error: error)
            return
        case .result:
            guard let id, let body = frame["body"] else { break }
            self = .result(id: id, body: body)
            return
        case .error:
            guard let error = WireError(json: frame["error"]) else { break }
            self = .error(error)
            return
        default:
            break
        }
        self = .other(frame)
    }

    /// The refusal a nack or a stream error carries.
    public var refusal: WireError? {
        switch self {
        case .nack(_, let error), .error(let error): error
        default: nil
        }
    }
}

/// A query was answered otherwise than with a result: the refusal (nack or stream error), or
/// the frame as received when it is neither.
public struct QueryRefused: Error, CustomStringConvertible, Sendable {
    public var type: String
    public var error: WireError?
    public var frame: JSONValue

    public var description: String { "\(type): " + (error.map { "\($0)" } ?? JSONWriter.string(frame)) }
}

extension WireClient {
    /// Asks query `type` and returns its result's body; anything else throws ``QueryRefused``.
    public func query(_ type: String, id: String? = nil, body: JSONValue = [:]) async throws -> JSONValue {
        let frame = try await request(Frame.query(type, id: id, body: body))
        if case .result(_, let result) = Answer(frame) { return result }
        throw QueryRefused(type: type, error: Answer(frame).refusal, frame: frame)
    }
}
