import DudaoCore
import DudaoTesting
import DudaoWire
import NIOCore
import NIOPosix
import Testing

/// The contract of SPEC section 2 and 3, against the real `dudao-ingest` over real mutual TLS.
@Suite(.serialized) struct IngestProtocolTests {
    @Test func everyFeedTypeIsAcceptedThenDuplicate() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect()
        for (index, (type, body)) in SampleFeeds.all.enumerated() {
            let reply = try await client.request(Frames.feed("f-\(index)", type, body))
            #expect(reply == Reply.ack(id: "f-\(index)", status: .accepted), "\(type): \(JSONWriter.string(reply))")
        }
        for (index, (type, body)) in SampleFeeds.all.enumerated() {
            let reply = try await client.request(Frames.feed("f-\(index)", type, body))
            #expect(reply["status"] == "duplicate", "\(type)")
        }
        await client.close()
    }

    @Test func everyErrorCodeFromRealBadInputKeepsTheConnection() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect()
        for (index, (type, body)) in SampleFeeds.all.prefix(5).enumerated() {
            _ = try await client.request(Frames.feed("setup-\(index)", type, body))
        }
        func expectNack(_ payload: String, _ code: WireErrorCode, id: String?, path: String? = nil) async throws {
            try await client.sendPayload(Array(payload.utf8))
            let reply = try #require(try await client.receive())
            #expect(reply["kind"] == "nack", "\(payload)")
            #expect(reply["id"] == (id.map { .string($0) } ?? .null), "\(payload)")
            #expect(reply["error"]?["code"]?.stringValue == code.rawValue, "\(payload) → \(JSONWriter.string(reply))")
            if let path { #expect(reply["error"]?["path"]?.stringValue == path, "\(payload)") }
            #expect((reply["error"]?["message"]?.stringValue ?? "").count > 10)
        }
        try await expectNack("{oops", .malformedJSON, id: nil)
        try await expectNack(#"{"v":1,"kind":"feed","type":"registry.town","body":{}}"#, .invalidEnvelope, id: nil, path: "id")
        try await expectNack(#"{"v":3,"kind":"feed","id":"e1","type":"registry.town","body":{}}"#, .unsupportedVersion, id: "e1")
        try await expectNack(#"{"v":1,"kind":"feed","id":"e2","type":"weather.report","body":{}}"#, .unknownType, id: "e2", path: "type")
        try await expectNack(
            #"{"v":1,"kind":"feed","id":"e3","type":"population.cohort","body":{"town_id":"dongcheng","year":2025,"age_3":"many","age_4":1,"age_5":1}}"#,
            .invalidField, id: "e3", path: "body.age_3")
        try await expectNack(
            #"{"v":1,"kind":"feed","id":"e4","type":"population.cohort","body":{"town_id":"atlantis","year":2025,"age_3":1,"age_4":1,"age_5":1}}"#,
            .unknownReference, id: "e4", path: "body.town_id")
        try await expectNack(
            #"{"v":1,"kind":"feed","id":"e5","type":"registry.town","body":{"town_id":"x","name":"X","kind":"town","colour":"red"}}"#,
            .invalidField, id: "e5", path: "body.colour")
        try await expectNack(
            #"{"v":1,"kind":"feed","id":"e6","type":"survey.recognition","body":{"year":2025,"respondents":10,"satisfied":11}}"#,
            .invalidField, id: "e6", path: "body.satisfied")
        try await expectNack(
            #"{"v":1,"kind":"feed","id":"e7","type":"preschool.census","body":{"institution_id":"ps-dongcheng-01","year":2025,"classes":[],"full_time_teachers":1,"caregivers":1,"staff_total":2,"certified_teachers":1,"disabled_children_certified":0}}"#,
            .invalidField, id: "e7", path: "body.institution_id")
        try await expectNack(#"{"v":1,"kind":"query","id":"e8","type":"no.such.query","body":{}}"#, .unknownType, id: "e8")
        // After all that, the same connection still accepts.
        let reply = try await client.request(Frames.feed("ok-after-errors", "registry.town", ["town_id": "naji", "name": "那吉镇", "kind": "town"]))
        #expect(reply["status"] == "accepted")
        await client.close()
    }

    @Test func accessIsGrantedByTypeAndTown() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let admin = try await ingest.connect()
        for (index, (type, body)) in SampleFeeds.all.prefix(5).enumerated() {
            _ = try await admin.request(Frames.feed("setup-\(index)", type, body))
        }
        await admin.close()

        let police = try await ingest.connect(as: "police-video-platform")
        let denied = try await police.request(Frames.feed("p1", "preschool.census", SampleFeeds.census()))
        #expect(denied["error"]?["code"] == "forbidden")
        let inventory = SampleFeeds.all.first { $0.0 == "safety.inventory" }!.1
        #expect(try await police.request(Frames.feed("p2", "safety.inventory", inventory))["status"] == "accepted")
        await police.close()

        let town = try await ingest.connect(as: "town-dongcheng")
        #expect(try await town.request(Frames.feed("t1", "preschool.census", SampleFeeds.census()))["status"] == "accepted")
        var foreign = SampleFeeds.census().objectValue!
        foreign["institution_id"] = "kg-encheng-01"
        let other = try await town.request(Frames.feed("t2", "preschool.census", .object(foreign)))
        #expect(other["error"]?["code"] == "forbidden")
        await town.close()

        // A valid certificate whose name the access file does not know.
        let stranger = try await ingest.connect(as: "stranger")
        #expect(try await stranger.request(Frames.feed("s1", "registry.town", SampleFeeds.town))["error"]?["code"] == "forbidden")
        await stranger.close()
    }

    @Test func clientsWithoutAValidCertificateAreRefused() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        for context in [try ingest.pki.anonymousClientContext(), try ingest.pki.foreignClientContext()] {
            // With TLS 1.3 the client may finish its side of the handshake before the server
            // refuses; either way not a single frame is answered.
            var answered = false
            do {
                let client = try await WireClient.connect(host: "127.0.0.1", port: ingest.port, tls: context)
                try? await client.send(Frames.feed("x", "registry.town", SampleFeeds.town))
                if let reply = try? await client.receive() { answered = reply["kind"] != nil }
                await client.close()
            } catch {
                answered = false
            }
            #expect(!answered)
        }
        // Nothing was stored.
        let client = try await ingest.connect()
        let status = try await client.request(Frames.query("s", "ingest.status"))
        #expect(status["body"]?["head"] == 0)
        await client.close()
    }

    @Test func staleAndOrderIndependence() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect()
        for (index, (type, body)) in SampleFeeds.all.prefix(5).enumerated() {
            _ = try await client.request(Frames.feed("setup-\(index)", type, body))
        }
        let newer = SampleFeeds.census(children: 20, asOf: "2025-10-01T00:00:00Z")
        let older = SampleFeeds.census(children: 10, asOf: "2025-09-01T00:00:00Z")
        #expect(try await client.request(Frames.feed("c-new", "preschool.census", newer))["status"] == "accepted")
        #expect(try await client.request(Frames.feed("c-old", "preschool.census", older))["status"] == "stale")
        // Same as_of, same body: changes nothing.
        #expect(try await client.request(Frames.feed("c-new-again", "preschool.census", newer))["status"] == "stale")
        await client.close()
    }

    /// A stale feed is answered on the event loop when the answer is certain (FastAdmission);
    /// a resent accepted feed is still `duplicate` and a foreign one still `forbidden`, also
    /// after a `kill -9` (the filter of stored ids is rebuilt from the database).
    @Test func staleAnswersKeepDuplicateAndForbiddenFirst() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let admin = try await ingest.connect()
        for (index, (type, body)) in SampleFeeds.all.prefix(5).enumerated() {
            _ = try await admin.request(Frames.feed("setup-\(index)", type, body))
        }
        let september = SampleFeeds.census(children: 10, asOf: "2025-09-01T00:00:00Z")
        let october = SampleFeeds.census(children: 20, asOf: "2025-10-01T00:00:00Z")
        var foreignOctober = october.objectValue!
        foreignOctober["institution_id"] = "kg-encheng-01"
        var foreignSeptember = september.objectValue!
        foreignSeptember["institution_id"] = "kg-encheng-01"
        #expect(try await admin.request(Frames.feed("c-sep", "preschool.census", september))["status"] == "accepted")
        #expect(try await admin.request(Frames.feed("c-oct", "preschool.census", october))["status"] == "accepted")
        #expect(try await admin.request(Frames.feed("e-oct", "preschool.census", .object(foreignOctober)))["status"] == "accepted")
        await admin.close()
        for round in ["before", "after-kill-9"] {
            let client = try await ingest.connect()
            // Older than the durable October version, but this (sender, id) was stored.
            #expect(try await client.request(Frames.feed("c-sep", "preschool.census", september))["status"] == "duplicate", "\(round)")
            #expect(try await client.request(Frames.feed("c-sep-\(round)", "preschool.census", september))["status"] == "stale", "\(round)")
            await client.close()
            // A town's identity may not send another town's kindergarten, stale or not.
            let town = try await ingest.connect(as: "town-dongcheng")
            let foreign = try await town.request(Frames.feed("t-\(round)", "preschool.census", .object(foreignSeptember)))
            #expect(foreign["error"]?["code"] == "forbidden", "\(round): \(JSONWriter.string(foreign))")
            await town.close()
            if round == "before" { try ingest.killAndRestart() }
        }
    }

    @Test func frameErrorsAnswerThenClose() async throws {
        let ingest = try IngestFixture(settings: #""max_frame_bytes": 4096"#)
        defer { ingest.stop() }
        // A length far beyond the limit, and no body at all: the refusal comes from the header alone.
        let big = try await ingest.connect()
        var header = ByteBuffer()
        header.writeInteger(UInt32(1_000_000_000), endianness: .big)
        try await big.sendRaw(header)
        let error = try #require(try await big.receive())
        #expect(error["kind"] == "error")
        #expect(error["error"]?["code"] == "frame_too_large")
        #expect(try await big.receive() == nil)  // closed

        let zero = try await ingest.connect()
        // A valid frame, then a zero length: the first is answered, then the error, then close.
        try await zero.send(Frames.feed("z1", "registry.town", SampleFeeds.town))
        var empty = ByteBuffer()
        empty.writeInteger(UInt32(0), endianness: .big)
        try await zero.sendRaw(empty)
        #expect(try await zero.receive()?["status"] == "accepted")
        #expect(try await zero.receive()?["error"]?["code"] == "invalid_frame")
        #expect(try await zero.receive() == nil)

        // The server still serves others.
        let other = try await ingest.connect()
        #expect(try await other.request(Frames.query("s", "ingest.status"))["kind"] == "result")
        await other.close()
    }

    @Test func pipelinedRepliesComeInOrder() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect()
        _ = try await client.request(Frames.feed("t", "registry.town", SampleFeeds.town))
        _ = try await client.request(Frames.feed("k", "registry.institution", SampleFeeds.kindergarten))
        let count = 3000
        for n in 0..<count {
            // Every 7th is invalid, so replies of both kinds interleave.
            let body: JSONValue =
                n % 7 == 0
                ? ["device_id": .string("d\(n)"), "institution_id": "kg-dongcheng-01", "device_kind": "alarm", "at": "not a time", "status": "ok"]
                : ["device_id": .string("d\(n)"), "institution_id": "kg-dongcheng-01", "device_kind": "alarm", "at": "2026-11-29T08:00:00Z", "status": "ok"]
            try await client.send(Frames.feed("hb-\(n)", "safety.heartbeat", body), flush: n % 100 == 99)
        }
        client.flush()
        for n in 0..<count {
            let reply = try #require(try await client.receive())
            #expect(reply["id"] == .string("hb-\(n)"))
            #expect(reply["kind"] == (n % 7 == 0 ? "nack" : "ack"))
        }
        await client.close()
    }
}
