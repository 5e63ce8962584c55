import DudaoCore
import NIOCore

/// A frame's envelope (SPEC section 2), validated.
public struct Envelope: Sendable {
    public var id: String
    public var sentAt: Timestamp?
    /// What the frame carries, by kind.
    public var request: Request

    /// A frame's content by kind, with the members its kind requires: ``Envelope/parse(_:)``
    /// refuses a feed or a query without its type and body, so those cases carry both.
    public enum Request: Sendable {
        case feed(type: String, body: JSONObject)
        case query(type: String, body: JSONObject)
        /// A service's alert event; its receiver names what is missing.
        case event(type: String?, body: JSONObject?)
        case subscribe(body: JSONObject?)
        case credit(body: JSONObject?)
        /// A kind a client does not send a server (ack, nack, result, error, record, keepalive).
        case other(Frame.Kind, type: String?, body: JSONObject?)
    }

    public init(id: String, sentAt: Timestamp? = nil, request: Request) {
        self.id = id
        self.sentAt = sentAt
        self.request = request
    }

    /// The envelope's `kind`.
    public var kind: Frame.Kind {
        switch request {
        case .feed: .feed
        case .query: .query
        case .event: .event
        case .subscribe: .subscribe
        case .credit: .credit
        case .other(let kind, _, _): kind
        }
    }

    /// The envelope's `type`, if it has one.
    public var type: String? {
        switch request {
        case .feed(let type, _), .query(let type, _): type
        case .event(let type, _), .other(_, let type, _): type
        case .subscribe, .credit: nil
        }
    }

    /// The envelope's `body`, if it has one.
    public var body: JSONObject? {
        switch request {
        case .feed(_, let body), .query(_, let body): body
        case .event(_, let body), .subscribe(let body), .credit(let body), .other(_, _, let body): body
        }
    }

    /// Envelope members the contract knows.
    static let knownMembers: Set<String> = ["v", "kind", "id", "type", "sent_at", "body", "status", "error"]

    /// Whether `id` is 1–128 characters of `[A-Za-z0-9._:-]`.
    public static func isValidID(_ id: String) -> Bool {
        // Over the contiguous bytes: iterating `id.utf8` cost about 40 instructions a byte.
        var id = id
        return id.withUTF8(isValidID)
    }

    /// ``isValidID(_:)-(String)`` over an id's UTF-8 bytes.
    public static func isValidID(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard (1...128).contains(utf8.count) else { return false }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
                UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// Parses and validates a frame's payload.
    ///
    /// - Returns: the envelope, or the rejection together with the frame's `id` when it had a
    ///   usable one (`nil` otherwise: the nack then carries `"id": null`).
    public static func parse(_ payload: ByteBuffer) -> Result<Envelope, Rejection> {
        let value: JSONValue
        do {
            value = try payload.withUnsafeReadableBytes { raw throws(JSONParseError) -> JSONValue in
                try JSONParser.parse(raw.bindMemory(to: UInt8.self))
            }
        } catch {
            return .failure(Rejection(id: nil, error: WireError(.malformedJSON, "the frame is not valid JSON: \(error)", zh: "帧不是合法的 JSON：\(error)")))
        }
        return parse(value)
    }

    /// Validates an already parsed frame.
    public static func parse(_ value: JSONValue) -> Result<Envelope, Rejection> {
        guard case .object(let object) = value else {
            return .failure(
                Rejection(id: nil, error: WireError(.invalidEnvelope, "the frame must be a JSON object, not \(value.typeName)", zh: "帧必须是 JSON 对象，而不是 \(value.typeName)")))
        }
        let rawID = object["id"]?.stringValue
        let id = rawID.flatMap { isValidID($0) ? $0 : nil }
        func reject(_ code: WireErrorCode, _ message: String, _ zh: String, _ path: String?) -> Result<Envelope, Rejection> {
            .failure(Rejection(id: id, error: WireError(code, message, zh: zh, path: path)))
        }
        guard let v = object["v"] else { return reject(.invalidEnvelope, "the envelope needs \"v\": 1", "信封缺少 \"v\": 1", "v") }
        guard v.intValue == 1, case .int = v else {
            return reject(
                .unsupportedVersion, "protocol version \(JSONWriter.string(v)) is not supported; send \"v\": 1",
                "字段 v：不支持协议版本 \(JSONWriter.string(v))；请发送 \"v\": 1", "v")
        }
        guard let validID = id else {
            let message =
                rawID == nil
                ? "the envelope needs an \"id\": 1-128 characters of [A-Za-z0-9._:-]"
                : "\"id\" must be 1-128 characters of [A-Za-z0-9._:-]"
            return reject(.invalidEnvelope, message, "字段 id：应为 1 到 128 个字符（A-Z、a-z、0-9、'.'、'_'、':'、'-'）", "id")
        }
        guard let kindText = object["kind"]?.stringValue, !kindText.isEmpty else {
            return reject(.invalidEnvelope, "the envelope needs a \"kind\" string (feed, query, ...)", "信封缺少 \"kind\" 字符串（feed、query 等）", "kind")
        }
        for member in object where !knownMembers.contains(member.key) {
            return reject(.invalidEnvelope, "unknown envelope member \"\(member.key)\"", "信封中有未知字段 \"\(member.key)\"", member.key)
        }
        guard let kind = Frame.Kind(rawValue: kindText) else {
            let kinds = Frame.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            return reject(.invalidEnvelope, "kind \"\(kindText)\" is not a frame kind (\(kinds))", "字段 kind：\"\(kindText)\" 不是帧类型（\(kinds)）", "kind")
        }
        var type: String?
        if let member = object["type"] {
            guard let text = member.stringValue, !text.isEmpty else {
                return reject(.invalidEnvelope, "\"type\" must be a non-empty string", "字段 type 应为非空字符串", "type")
            }
            type = text
        }
        var sentAt: Timestamp?
        if let member = object["sent_at"], member != .null {
            guard let text = member.stringValue, let stamp = Timestamp(rfc3339: text) else {
                return reject(
                    .invalidEnvelope, "\"sent_at\" must be an RFC 3339 timestamp like 2025-09-30T10:00:00+08:00",
                    "字段 sent_at 应为 RFC 3339 时间，如 2025-09-30T10:00:00+08:00", "sent_at")
            }
            sentAt = stamp
        }
        var body: JSONObject?
        if let member = object["body"] {
            guard case .object(let bodyObject) = member else {
                return reject(.invalidEnvelope, "\"body\" must be a JSON object, not \(member.typeName)", "字段 body 应为 JSON 对象，而不是 \(member.typeName)", "body")
            }
            body = bodyObject
        }
        let request: Request
        switch kind {
        case .feed, .query:
            guard let type else {
                return reject(.invalidEnvelope, "a \(kind.rawValue) needs a \"type\"", "\(kind.rawValue) 帧缺少字段 type", "type")
            }
            guard let body else {
                return reject(.invalidEnvelope, "a \(kind.rawValue) needs a \"body\" object", "\(kind.rawValue) 帧缺少 body 对象", "body")
            }
            request = kind == .feed ? .feed(type: type, body: body) : .query(type: type, body: body)
        case .event: request = .event(type: type, body: body)
        case .subscribe: request = .subscribe(body: body)
        case .credit: request = .credit(body: body)
        default: request = .other(kind, type: type, body: body)
        }
        return .success(Envelope(id: validID, sentAt: sentAt, request: request))
    }

    /// A rejected frame: the id to answer with (if usable) and why.
    public struct Rejection: Error, Sendable {
        public var id: String?
        public var error: WireError
    }
}

/// Builders for the frames a service sends back.
public enum Reply {
    /// `{"v":1,"kind":"ack","id":...,"status":...}` plus optional extra members.
    public static func ack(id: String, status: AckStatus, extra: JSONObject = [:]) -> JSONValue {
        var object: JSONObject = ["v": 1, "kind": .string(Frame.Kind.ack.rawValue), "id": .string(id), "status": .string(status.rawValue)]
        for member in extra { object[member.key] = member.value }
        return .object(object)
    }

    /// ``ack(id:status:extra:)`` without extra members, encoded: the same bytes as
    /// `ByteBuffer(json: ack(id:status:))`, written straight into the buffer (the reply to
    /// nearly every feed, so built without a JSON value).
    public static func ackPayload(id: String, status: AckStatus) -> ByteBuffer {
        guard Envelope.isValidID(id) else { return ByteBuffer(json: ack(id: id, status: status)) }
        // A valid id needs no escaping.
        var buffer = ByteBufferAllocator().buffer(capacity: 48 + id.utf8.count)
        buffer.writeStaticString(#"{"v":1,"kind":"ack","id":""#)
        buffer.writeString(id)
        buffer.writeStaticString(#"","status":""#)
        buffer.writeString(status.rawValue)
        buffer.writeStaticString(#""}"#)
        return buffer
    }

    /// `{"v":1,"kind":"nack","id":...,"error":{...}}`; `id` is `null` when the frame had none.
    public static func nack(id: String?, error: WireError) -> JSONValue {
        .object(["v": 1, "kind": .string(Frame.Kind.nack.rawValue), "id": id.map { .string($0) } ?? .null, "error": error.json])
    }

    /// `{"v":1,"kind":"result","id":...,"body":{...}}`.
    public static func result(id: String, body: JSONValue) -> JSONValue {
        .object(["v": 1, "kind": .string(Frame.Kind.result.rawValue), "id": .string(id), "body": body])
    }

    /// `{"v":1,"kind":"error","error":{...}}`: a stream-level error, sent before closing.
    public static func error(_ error: WireError) -> JSONValue {
        .object(["v": 1, "kind": .string(Frame.Kind.error.rawValue), "error": error.json])
    }
}

extension ByteBuffer {
    /// A buffer holding the compact JSON encoding of `value`.
    public init(json value: JSONValue) {
        self.init(bytes: JSONWriter.bytes(value))
    }
}
