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
}
