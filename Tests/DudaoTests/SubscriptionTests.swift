import DudaoCore
import DudaoTesting
import DudaoWire
import Testing

/// Downstream services read the ingest log by subscription, with credit-based flow control.
@Suite(.serialized) struct SubscriptionTests {
    @Test(arguments: StoreBackend.allCases) func liveRecordsArriveWithinCreditAndResumeFromAPosition(backend: StoreBackend) async throws {
        let ingest = try IngestFixture(environment: try backend.ingestEnvironment())
        defer { ingest.stop() }
        let sender = try await ingest.connect()
        _ = try await sender.request(Frames.feed("t", "registry.town", SampleFeeds.town))

        let consumer = try await ingest.connect(as: "dudao-indicators")
        try await consumer.send(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 1, "credit": 3]])
        let started = try #require(try await consumer.receive())
        #expect(started["kind"] == "result")
        let first = try #require(try await consumer.receive())
        #expect(first["kind"] == "record")
        #expect(first["type"] == "registry.town")
        #expect(first["body"]?["record"]?["town_id"] == "dongcheng")
        #expect(first["body"]?["sender"] == "operator")

        // Live: records committed after subscribing arrive too, up to the credit (3 in all).
        for n in 0..<5 {
            _ = try await sender.request(Frames.feed("town-\(n)", "registry.town", ["town_id": .string("t\(n)"), "name": "镇", "kind": "town"]))
        }
        #expect(try await consumer.receive()?["body"]?["seq"] == 2)
        #expect(try await consumer.receive()?["body"]?["seq"] == 3)
        // More credit, and the consumer reports what it has committed.
        try await consumer.send(["v": 1, "kind": "credit", "id": "c1", "body": ["credit": 10, "committed": 3]])
        #expect(try await consumer.receive()?["body"]?["seq"] == 4)
        #expect(try await consumer.receive()?["body"]?["seq"] == 5)
        #expect(try await consumer.receive()?["body"]?["seq"] == 6)
        await consumer.close()

        // A new subscription resumes where the consumer says.
        let resumed = try await ingest.connect(as: "dudao-indicators")
        try await resumed.send(["v": 1, "kind": "subscribe", "id": "sub2", "body": ["from": 5, "credit": 10]])
        _ = try await resumed.receive()
        #expect(try await resumed.receive()?["body"]?["seq"] == 5)
        await resumed.close()

        let status = try await sender.request(Frames.query("s", "ingest.status"))
        #expect((status["body"]?["consumers"]?["dudao-indicators"]?.intValue ?? 0) >= 3)

        // A position past the end of this log (6 records): this ingest is older than what the
        // consumer has seen, and new records would reuse numbers it has committed. Refused.
        let ahead = try await ingest.connect(as: "dudao-indicators")
        let refused = try await ahead.request(["v": 1, "kind": "subscribe", "id": "sub3", "body": ["from": 8, "credit": 10]])
        #expect(refused["error"]?["code"] == "invalid_field")
        #expect(refused["error"]?["path"] == "body.from")
        await ahead.close()
        // The refusal sticks, also across a restart of the ingest and once the log has grown
        // past that position (records 7 and 8 are not the ones the consumer saw).
        try ingest.killAndRestart()
        let more = try await ingest.connect()
        for n in 5..<8 {
            _ = try await more.request(Frames.feed("town-\(n)", "registry.town", ["town_id": .string("t\(n)"), "name": "镇", "kind": "town"]))
        }
        func subscribe(_ from: Int64) async throws -> JSONValue {
            let client = try await ingest.connect(as: "dudao-indicators")
            let reply = try await client.request(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": .int(from), "credit": 10]])
            await client.close()
            return reply
        }
        #expect(try await subscribe(8)["error"]?["path"] == "body.from", "still refused at head 9")
        // Rebuilt (from 1): accepted, and the consumer is trusted again.
        #expect(try await subscribe(1)["kind"] == "result")
        #expect(try await subscribe(8)["kind"] == "result")
        #expect(try await subscribe(10)["kind"] == "result", "from = head + 1 is simply caught up")
        await more.close()
        await sender.close()
    }

    /// A consumer whose types leave out the last records of the log has still passed them: once
    /// it has committed everything it was sent, its stored position reaches the head (its lag is
    /// zero, compaction is not held back), without it being sent anything more.
    @Test func aConsumerPassesTheRecordsItsTypesLeaveOut() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let sender = try await ingest.connect()
        _ = try await sender.request(Frames.feed("t", "registry.town", SampleFeeds.town))
        _ = try await sender.request(Frames.feed("k", "registry.institution", SampleFeeds.kindergarten))
        let heartbeat: JSONObject = [
            "device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "device_kind": "alarm", "at": "2026-06-01T08:00:00+08:00", "status": "ok",
        ]
        _ = try await sender.request(Frames.feed("hb", "safety.heartbeat", .object(heartbeat)))

        let consumer = try await ingest.connect(as: "dudao-safety")
        try await consumer.send(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 1, "credit": 10, "types": ["safety.*"]]])
        #expect(try await consumer.receive()?["kind"] == "result")
        #expect(try await consumer.receive()?["body"]?["seq"] == 3, "the heartbeat, not the registry records")
        try await consumer.send(["v": 1, "kind": "credit", "id": "c1", "body": ["credit": 1, "committed": 3]])
        // Records its types leave out, after everything it was sent.
        for n in 0..<3 {
            _ = try await sender.request(Frames.feed("town-\(n)", "registry.town", ["town_id": .string("t\(n)"), "name": "镇", "kind": "town"]))
        }
        var position: Int64 = 0
        for _ in 0..<50 where position < 6 {
            try await Task.sleep(for: .milliseconds(100))
            position = try await sender.request(Frames.query("s", "ingest.status"))["body"]?["consumers"]?["dudao-safety"]?.intValue ?? 0
        }
        #expect(position == 6, "the head")
        // Not while a record it was sent is uncommitted.
        var later = heartbeat
        later["at"] = "2026-06-01T08:01:00+08:00"
        _ = try await sender.request(Frames.feed("hb-2", "safety.heartbeat", .object(later)))
        #expect(try await consumer.receive()?["body"]?["seq"] == 7)
        _ = try await sender.request(Frames.feed("town-9", "registry.town", ["town_id": "t9", "name": "镇", "kind": "town"]))
        try await Task.sleep(for: .milliseconds(1500))
        let held = try await sender.request(Frames.query("s2", "ingest.status"))["body"]?["consumers"]?["dudao-safety"]?.intValue
        #expect(held == 6, "record 7 was sent and is not committed")
        await consumer.close()
        await sender.close()
    }

    @Test func integratorsMayNotSubscribe() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect(as: "police-video-platform")
        let reply = try await client.request(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 1]])
        #expect(reply["error"]?["code"] == "forbidden")
        await client.close()
    }

    @Test(arguments: StoreBackend.allCases) func compactionKeepsTheLatestVersionOnceConsumed(backend: StoreBackend) async throws {
        let ingest = try IngestFixture(settings: #""retention": {"compact_interval_seconds": 1}"#, environment: try backend.ingestEnvironment())
        defer { ingest.stop() }
        let client = try await ingest.connect()
        _ = try await client.request(Frames.feed("t", "registry.town", SampleFeeds.town))
        _ = try await client.request(Frames.feed("k", "registry.institution", SampleFeeds.kindergarten))
        for n in 0..<50 {
            let at = Timestamp(millis: 1_780_000_000_000 + Int64(n) * 60_000).description
            _ = try await client.request(
                Frames.feed("hb-\(n)", "safety.heartbeat",
                    ["device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "device_kind": "alarm", "at": .string(at), "status": "ok"]))
        }
        // Not consumed yet: nothing may be dropped.
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await client.request(Frames.query("s1", "ingest.status"))["body"]?["log_records"] == 52)
        // The configured consumer commits everything: superseded heartbeats go, the latest stays.
        let consumer = try await ingest.connect(as: "dudao-indicators")
        try await consumer.send(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 53, "credit": 0]])
        _ = try await consumer.receive()
        try await Task.sleep(for: .milliseconds(2500))
        let status = try await client.request(Frames.query("s2", "ingest.status"))
        #expect(status["body"]?["log_records"] == 3)
        #expect(status["body"]?["keys"] == 3)
        await consumer.close()
        await client.close()
    }

    /// A consumer reports its position after every batch, hundreds of times a second under
    /// load; the ingest stores at most one a moment (each store is a transaction with an fsync):
    /// the latest report is stored all the same, and so is the last before it disconnects.
    @Test(arguments: StoreBackend.allCases) func theLatestOfManyReportsIsStored(backend: StoreBackend) async throws {
        let ingest = try IngestFixture(environment: try backend.ingestEnvironment())
        defer { ingest.stop() }
        let sender = try await ingest.connect()
        for n in 0..<6 {
            _ = try await sender.request(Frames.feed("town-\(n)", "registry.town", ["town_id": .string("t\(n)"), "name": "镇", "kind": "town"]))
        }
        func stored() async throws -> Int64 {
            try await sender.request(Frames.query("s", "ingest.status"))["body"]?["consumers"]?["dudao-indicators"]?.intValue ?? 0
        }
        func waitFor(_ position: Int64) async throws -> Int64 {
            var seen: Int64 = 0
            for _ in 0..<50 where seen != position {
                try await Task.sleep(for: .milliseconds(100))
                seen = try await stored()
            }
            return seen
        }
        let consumer = try await ingest.connect(as: "dudao-indicators")
        try await consumer.send(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 1, "credit": 10]])
        #expect(try await consumer.receive()?["kind"] == "result")
        for seq in Int64(1)...6 { #expect(try await consumer.receive()?["body"]?["seq"] == .int(seq)) }
        for seq in Int64(1)...4 {
            try await consumer.send(["v": 1, "kind": "credit", "id": .string("c\(seq)"), "body": ["credit": 1, "committed": .int(seq)]])
        }
        #expect(try await waitFor(4) == 4, "the latest of four reports in a row")
        try await consumer.send(["v": 1, "kind": "credit", "id": "c5", "body": ["credit": 1, "committed": 5]])
        try await consumer.send(["v": 1, "kind": "credit", "id": "c6", "body": ["credit": 1, "committed": 6]])
        await consumer.close()
        #expect(try await waitFor(6) == 6, "the last report before the consumer went")
    }
}
