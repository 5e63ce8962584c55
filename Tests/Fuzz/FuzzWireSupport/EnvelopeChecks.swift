import DudaoCore
import DudaoWire
import FuzzSupport
import NIOCore

/// What the envelope parser promises for any frame payload, and what the replies built from
/// its verdict look like on the wire.
public enum EnvelopeChecks {
    /// Parses `payload` as the ingest does (``Envelope/parse(_:)-(ByteBuffer)``) and checks it
    /// against the JSON parser and the envelope rules; a feed envelope's body goes on to
    /// ``FeedChecks/check(type:body:)``.
    public static func check(_ payload: ByteBuffer) {
        let verdict = Envelope.parse(payload)
        guard let value = JSONChecks.parse(payload.readableBytesView) else {
            guard case .failure(let rejection) = verdict, rejection.id == nil, rejection.error.code == .malformedJSON
            else { fuzzFail("a payload that is not JSON was not answered malformed_json with a null id: \(verdict)") }
            checkReply(Reply.nack(id: nil, error: rejection.error), error: rejection.error)
            return
        }
        let fromValue = Envelope.parse(value)
        switch (verdict, fromValue) {
        case (.success(let envelope), .success(let other)):
            fuzzCheck(
                envelope.kind == other.kind && envelope.id == other.id && envelope.type == other.type
                    && envelope.sentAt == other.sentAt && envelope.body == other.body,
                "parsing the bytes and parsing the value give two envelopes")
            checkAccepted(envelope, value)
        case (.failure(let rejection), .failure(let other)):
            fuzzCheck(
                rejection.id == other.id && rejection.error == other.error,
                "parsing the bytes and parsing the value give two rejections: \(rejection.error) / \(other.error)")
            checkRejected(rejection, value)
        default:
            fuzzFail("parsing the bytes and parsing the value disagree: \(verdict) / \(fromValue)")
        }
    }

    static func checkAccepted(_ envelope: Envelope, _ value: JSONValue) {
        fuzzCheck(Envelope.isValidID(envelope.id), "accepted an envelope with id \(envelope.id.debugDescription)")
        fuzzCheck(value["id"]?.stringValue == envelope.id, "the envelope's id is not the frame's id")
        fuzzCheck(value["v"] == .int(1), "accepted an envelope whose v is \(value["v"].map(JSONWriter.string) ?? "missing")")
        fuzzCheck(Frame.Kind(rawValue: envelope.kind.rawValue) == envelope.kind, "an envelope kind that is not a wire word")
        if envelope.kind == .feed || envelope.kind == .query {
            fuzzCheck(envelope.type != nil && envelope.body != nil, "accepted a \(envelope.kind.rawValue) without type or body")
        }
        if let sentAt = envelope.sentAt {
            JSONChecks.timestampRoundTrip(sentAt, from: value["sent_at"]?.stringValue ?? "?")
        }
        if envelope.kind == .feed, let type = envelope.type, let body = envelope.body {
            FeedChecks.check(type: type, body: body)
        }
        checkReply(Reply.ack(id: envelope.id, status: .accepted, extra: ["seq": 1]))
        checkReply(Reply.result(id: envelope.id, body: ["kind": .string(envelope.kind.rawValue), "type": envelope.type.map { .string($0) } ?? .null]))
    }

    static func checkRejected(_ rejection: Envelope.Rejection, _ value: JSONValue) {
        let allowed: [WireErrorCode] = [.invalidEnvelope, .unsupportedVersion]
        fuzzCheck(allowed.contains(rejection.error.code), "an envelope was rejected with \(rejection.error.code.rawValue)")
        if case .object = value {
            fuzzCheck(rejection.error.path != nil, "an envelope rejection without a path: \(rejection.error)")
        } else {
            fuzzCheck(rejection.error.code == .invalidEnvelope && rejection.id == nil, "a frame that is not an object got \(rejection.error)")
        }
        if let id = rejection.id {
            fuzzCheck(Envelope.isValidID(id), "a rejection answers with the unusable id \(id.debugDescription)")
            fuzzCheck(value["id"]?.stringValue == id, "a rejection answers with an id the frame did not carry")
        } else if let id = value["id"]?.stringValue {
            fuzzCheck(!Envelope.isValidID(id), "a rejection drops the usable id \(id.debugDescription)")
        }
        checkReply(Reply.nack(id: rejection.id, error: rejection.error), error: rejection.error)
    }

    /// A reply frame is valid JSON that reads back as itself, and its `error` member (when it
    /// has one) reads back as `error`, the error it was built from.
    static func checkReply(_ reply: JSONValue, error: WireError? = nil) {
        JSONChecks.roundTrip(reply)
        guard let error else { return }
        let bytes = JSONWriter.bytes(reply)
        let readBack = WireError(json: JSONChecks.parse(bytes)?["error"])
        fuzzCheck(readBack == error, "the error of a reply reads back as \(readBack.map(String.init(describing:)) ?? "nil"): \(fuzzShow(bytes))")
    }
}
