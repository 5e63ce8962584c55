import DudaoCore

/// The frames a client sends (SPEC section 2), built in one place: nothing outside DudaoWire
/// writes a frame as a JSON literal. The replies a service sends are `Reply`'s.
public enum Frame {
    /// The `kind` of a frame, as spelled on the wire.
    public enum Kind: String, Sendable, CaseIterable {
        case feed, query, ack, nack, result, error, subscribe, record, credit, keepalive, event
    }

    static func frame(_ kind: Kind, id: String, type: String? = nil, body: JSONValue) -> JSONValue {
        var object: JSONObject = ["v": 1, "kind": .string(kind.rawValue), "id": .string(id)]
        if let type { object["type"] = .string(type) }
        object["body"] = body
        return .object(object)
    }

    /// `{"v":1,"kind":"feed","id":…,"type":…,"body":{…}}`.
    public static func feed(id: String, type: String, body: JSONValue) -> JSONValue { frame(.feed, id: id, type: type, body: body) }

    /// `{"v":1,"kind":"query","id":…,"type":…,"body":{…}}`; `id` defaults to the type.
    public static func query(_ type: String, id: String? = nil, body: JSONValue = [:]) -> JSONValue {
        frame(.query, id: id ?? type, type: type, body: body)
    }

    /// `{"v":1,"kind":"event","id":…,"type":…,"body":{…}}` (a service's alert event to notify).
    public static func event(id: String, type: String, body: JSONValue) -> JSONValue { frame(.event, id: id, type: type, body: body) }

    /// `{"v":1,"kind":"subscribe","id":…,"body":{"from":…,"credit":…,…}}`.
    public static func subscribe(id: String = "subscribe", body: JSONValue) -> JSONValue { frame(.subscribe, id: id, body: body) }

    /// `{"v":1,"kind":"credit","id":"credit","body":{"credit":n}}`: n more records may come;
    /// `committed`: the consumer has durably applied the records up to this sequence number.
    public static func credit(_ credit: Int, committed: Int64? = nil, id: String = "credit") -> JSONValue {
        var body: JSONObject = ["credit": .int(Int64(credit))]
        if let committed { body["committed"] = .int(committed) }
        return frame(.credit, id: id, body: .object(body))
    }

    /// `{"v":1,"kind":"keepalive","id":"keepalive","body":{"head":n}}`: the log's head, on a quiet subscription.
    public static func keepalive(head: Int64) -> JSONValue { frame(.keepalive, id: "keepalive", body: ["head": .int(head)]) }
}

extension AlertEvent {
    /// The `event` frame to send.
    public var frame: JSONValue { Frame.event(id: id, type: type.rawValue, body: .object(body)) }
}
