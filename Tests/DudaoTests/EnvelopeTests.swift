import DudaoCore
import DudaoWire
import NIOCore
import Testing

@Suite struct EnvelopeTests {
    func parse(_ text: String) -> Result<Envelope, Envelope.Rejection> {
        Envelope.parse(ByteBuffer(string: text))
    }

    func rejection(_ text: String) -> Envelope.Rejection? {
        if case .failure(let rejection) = parse(text) { return rejection }
        return nil
    }

    @Test func acceptsAFeed() throws {
        let envelope = try parse(#"{"v":1,"kind":"feed","id":"a.b:c-1_2","type":"registry.town","sent_at":"2025-09-30T10:00:00+08:00","body":{}}"#).get()
        #expect(envelope.id == "a.b:c-1_2")
        #expect(envelope.type == "registry.town")
        #expect(envelope.sentAt != nil)
    }

    @Test func malformedJSONHasNullID() {
        let r = rejection("{not json")
        #expect(r?.id == nil)
        #expect(r?.error.code == .malformedJSON)
    }

    @Test func versionIsChecked() {
        let r = rejection(#"{"v":2,"kind":"feed","id":"x","type":"t","body":{}}"#)
        #expect(r?.id == "x")
        #expect(r?.error.code == .unsupportedVersion)
        #expect(rejection(#"{"kind":"feed","id":"x","type":"t","body":{}}"#)?.error.code == .invalidEnvelope)
        #expect(rejection(#"{"v":"1","kind":"feed","id":"x","type":"t","body":{}}"#)?.error.code == .unsupportedVersion)
    }

    @Test func idMustBeUsable() {
        for id in ["\"\"", "\"has space\"", "\"\(String(repeating: "a", count: 129))\"", "7", "null"] {
            let r = rejection(#"{"v":1,"kind":"feed","id":"# + id + #","type":"t","body":{}}"#)
            #expect(r?.id == nil)
            #expect(r?.error.code == .invalidEnvelope)
            #expect(r?.error.path == "id")
        }
        #expect(Envelope.isValidID(String(repeating: "a", count: 128)))
    }

    @Test func membersAreChecked() {
        #expect(rejection(#"{"v":1,"kind":"feed","id":"x","type":"t","body":[]}"#)?.error.path == "body")
        #expect(rejection(#"{"v":1,"kind":"feed","id":"x","body":{}}"#)?.error.path == "type")
        #expect(rejection(#"{"v":1,"kind":"feed","id":"x","type":"t"}"#)?.error.path == "body")
        #expect(rejection(#"{"v":1,"kind":"feed","id":"x","type":"t","body":{},"extra":1}"#)?.error.path == "extra")
        #expect(rejection(#"{"v":1,"kind":"feed","id":"x","type":"t","body":{},"sent_at":"yesterday"}"#)?.error.path == "sent_at")
        #expect(rejection(#"[1]"#)?.error.code == .invalidEnvelope)
    }

    @Test func aKindThatIsNoWireWordIsRefusedNamingKind() {
        let r = rejection(#"{"v":1,"kind":"gossip","id":"x","type":"t","body":{}}"#)
        #expect(r?.error.code == .invalidEnvelope)
        #expect(r?.error.path == "kind")
        #expect(r?.error.message.contains("feed, query") == true)
    }

    /// Every frame a client builds parses back to what was built.
    @Test func theBuiltFramesRoundTrip() throws {
        func back(_ frame: JSONValue) throws -> Envelope { try Envelope.parse(ByteBuffer(json: frame)).get() }
        let feed = try back(Frame.feed(id: "f-1", type: "registry.town", body: ["town_id": "dongcheng"]))
        #expect(feed.kind == .feed && feed.id == "f-1" && feed.type == "registry.town" && feed.body?["town_id"] == "dongcheng")
        let query = try back(Frame.query("safety.rates", body: ["scope": "city"]))
        #expect(query.kind == .query && query.id == "safety.rates" && query.type == "safety.rates" && query.body?["scope"] == "city")
        let credit = try back(Frame.credit(64, committed: 10))
        #expect(credit.kind == .credit && credit.body?["credit"] == 64 && credit.body?["committed"] == 10)
        #expect(try back(Frame.credit(5)).body?["committed"] == nil)
        let subscribe = try back(Frame.subscribe(body: ["from": 1, "credit": 256]))
        #expect(subscribe.kind == .subscribe && subscribe.id == "subscribe" && subscribe.body?["from"] == 1)
        #expect(try back(Frame.keepalive(head: 42)).body?["head"] == 42)
        let event = AlertEvent(
            type: .alarm, id: "e-1", severity: .critical, alertKey: "device:d1", status: .firing, scope: "city",
            townID: nil, institutionID: nil, indicator: nil, summary: "s", details: [:], at: Timestamp(millis: 0))
        let parsed = try back(event.frame)
        #expect(parsed.kind == .event && parsed.id == "e-1" && parsed.type == "safety.alarm")
        #expect(Reply.ack(id: "a", status: .accepted)["kind"] == "ack")
    }

    /// The typed bodies and answers: what is encoded decodes to the same value, and a body that
    /// breaks a rule is refused at the field.
    @Test func subscriptionsCreditsAndAnswersRoundTrip() throws {
        func back(_ frame: JSONValue) throws -> Envelope { try Envelope.parse(ByteBuffer(json: frame)).get() }
        let wanted = Frame.Subscription(from: 7, credit: 256, types: ["safety.*"], keepaliveSeconds: 1.5)
        guard case .subscribe(let body?) = try back(Frame.subscribe(id: "s", wanted)).request else {
            Issue.record("not a subscribe request")
            return
        }
        #expect(try Frame.Subscription.decode(body).get() == wanted)
        #expect(try Frame.Subscription.decode(["from": 1]).get() == Frame.Subscription(from: 1))
        for (bad, path) in [
            (["from": 0] as JSONObject, "body.from"), (["from": 1, "credit": -1], "body.credit"), (["from": 1, "types": "x"], "body.types"),
            (["from": 1, "keepalive_seconds": 0.01], "body.keepalive_seconds"),
        ] {
            guard case .failure(let error) = Frame.Subscription.decode(bad) else {
                Issue.record("\(bad) was accepted")
                continue
            }
            #expect(error.code == .invalidField && error.path == path)
        }
        guard case .credit(let credit?) = try back(Frame.credit(64, committed: 10)).request else {
            Issue.record("not a credit request")
            return
        }
        #expect(Frame.CreditGrant.decode(credit) == Frame.CreditGrant(credit: 64, committed: 10))
        #expect(Frame.CreditGrant.decode(["credit": 0, "committed": "x"]) == Frame.CreditGrant(credit: nil, committed: nil))

        #expect(Answer(Reply.ack(id: "a", status: .stale)) == .ack(id: "a", status: .stale))
        let refused = WireError(.invalidField, "body.year must be an integer", path: "body.year")
        #expect(Answer(Reply.nack(id: nil, error: refused)) == .nack(id: nil, error: refused))
        #expect(Answer(Reply.result(id: "q", body: ["head": 3])) == .result(id: "q", body: ["head": 3]))
        #expect(Answer(Reply.error(refused)).refusal == refused)
        #expect(Answer(Frame.keepalive(head: 1)) == .other(Frame.keepalive(head: 1)))
        #expect(Answer(["v": 1, "kind": "ack", "id": "a", "status": "stored"]) == .other(["v": 1, "kind": "ack", "id": "a", "status": "stored"]))
    }

    /// The record frame's spliced encoding (the stored body is copied in, not written again)
    /// parses back to the same record, escapes and Chinese included.
    @Test func theRecordFrameRoundTrips() throws {
        let body: JSONObject = ["town_id": "dongcheng", "name": "东成镇 \"新\"\n", "kind": "town"]
        let bytes = Frame.Record.encode(
            seq: 42, type: "registry.town", sender: "town-\"dongcheng\"", feedID: "f-1", key: "dongcheng", asOfMillis: 1_750_000_000_000,
            receivedAtMillis: 1_750_000_000_123, bodyJSON: JSONWriter.string(.object(body)))
        let frame = try JSONParser.parse(Array(bytes.readableBytesView))
        let envelope = try Envelope.parse(frame).get()
        #expect(envelope.kind == .record && envelope.id == "42" && envelope.type == "registry.town")
        let record = try #require(Frame.Record(frame: frame))
        #expect(
            record
                == Frame.Record(
                    seq: 42, type: "registry.town", sender: "town-\"dongcheng\"", feedID: "f-1", key: "dongcheng",
                    asOf: Timestamp(millis: 1_750_000_000_000), receivedAt: Timestamp(millis: 1_750_000_000_123), body: body))
        #expect(Frame.Record(frame: Frame.keepalive(head: 1)) == nil)
    }

    /// The encoded ack is byte for byte the JSON value's encoding, for every status, and for an
    /// id that needs escaping (which takes the JSON value's path).
    @Test func anEncodedAckIsTheAckValuesBytes() {
        for id in ["f-1", "lg-1234-63-1999", String(repeating: "a", count: 128), "with \"quote\"", "中文", ""] {
            for status in AckStatus.allCases {
                #expect(Reply.ackPayload(id: id, status: status) == ByteBuffer(json: Reply.ack(id: id, status: status)), "\(id) \(status)")
            }
        }
    }
}
