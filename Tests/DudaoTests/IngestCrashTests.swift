import DudaoCore
import DudaoTesting
import DudaoWire
import NIOConcurrencyHelpers
import Testing

/// Nothing acknowledged is lost, nothing is applied twice: `kill -9` the real ingest mid-stream.
@Suite(.serialized) struct IngestCrashTests {
    static func heartbeat(_ n: Int) -> JSONValue {
        Frames.feed("crash-\(n)", "safety.heartbeat", SampleFeeds.heartbeat(device: "dev-\(n)"))
    }

    /// Sends feeds `range` pipelined (window 128) and returns the ids acknowledged `accepted`
    /// or `duplicate` before the connection died.
    static func pump(_ ingest: IngestFixture, _ range: Range<Int>, acked: NIOLockedValueBox<Set<String>>) async {
        guard let client = try? await ingest.connect() else { return }
        var next = range.lowerBound
        var pending: [String] = []
        do {
            while next < range.upperBound || !pending.isEmpty {
                while next < range.upperBound, pending.count < 128 {
                    try await client.send(heartbeat(next), flush: false)
                    pending.append("crash-\(next)")
                    next += 1
                }
                client.flush()
                guard let reply = try await client.receive() else { break }
                let id = pending.removeFirst()
                #expect(reply["id"] == .string(id))
                if reply["kind"] == "ack" { acked.withLockedValue { _ = $0.insert(id) } }
            }
        } catch {}
        await client.close()
    }

    /// Reads the whole log through a subscription, as a downstream service would.
    static func readLog(_ ingest: IngestFixture) async throws -> [String: Int] {
        let client = try await ingest.connect(as: "dudao-indicators")
        try await client.send(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 1, "credit": 1_000_000]])
        let first = try #require(try await client.receive())
        let head = first["body"]?["head"]?.intValue ?? 0
        var seen: [String: Int] = [:]
        var seq: Int64 = 0
        while seq < head, let frame = try await client.receive() {
            #expect(frame["kind"] == "record")
            seq = frame["body"]?["seq"]?.intValue ?? 0
            if let id = frame["body"]?["feed_id"]?.stringValue { seen[id, default: 0] += 1 }
        }
        await client.close()
        return seen
    }

    @Test func killNineMidStreamLosesNothingAndDuplicatesNothing() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        try await ingest.registerSampleKindergarten()

        let total = 8000
        let acked = NIOLockedValueBox(Set<String>())
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<4 {
                let range = (c * total / 4)..<((c + 1) * total / 4)
                group.addTask { await Self.pump(ingest, range, acked: acked) }
            }
            group.addTask {
                // Kill once a good part has been acknowledged, while frames are in flight.
                while acked.withLockedValue({ $0.count }) < total / 4 { try? await Task.sleep(for: .milliseconds(5)) }
                try? ingest.killAndRestart()
            }
        }
        let ackedBeforeKill = acked.withLockedValue { $0 }
        #expect(ackedBeforeKill.count >= total / 4)
        #expect(ackedBeforeKill.count < total, "the kill came too late to test anything")

        // Every acknowledged feed survived the kill.
        let afterKill = try await Self.readLog(ingest)
        for id in ackedBeforeKill { #expect(afterKill[id] == 1, "\(id) acknowledged but not stored once") }

        // Re-send everything not acknowledged; some were stored but their ack was lost: duplicate.
        let client = try await ingest.connect()
        for n in 0..<total where !ackedBeforeKill.contains("crash-\(n)") {
            let reply = try await client.request(Self.heartbeat(n))
            #expect(reply["status"] == "accepted" || reply["status"] == "duplicate", "\(JSONWriter.string(reply))")
        }
        // And re-sending an acknowledged one is a duplicate, not a second record.
        #expect(try await client.request(Self.heartbeat(0))["status"] == "duplicate")
        await client.close()

        let final = try await Self.readLog(ingest)
        for n in 0..<total { #expect(final["crash-\(n)"] == 1, "crash-\(n) stored \(final["crash-\(n)"] ?? 0) times") }
        #expect(final.count == total + 2)
    }

    @Test func dedupeAndRegistrySurviveRestart() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect()
        _ = try await client.request(Frames.feed("t", "registry.town", SampleFeeds.town))
        _ = try await client.request(Frames.feed("k", "registry.institution", SampleFeeds.kindergarten))
        await client.close()
        try ingest.killAndRestart()
        let again = try await ingest.connect()
        #expect(try await again.request(Frames.feed("t", "registry.town", SampleFeeds.town))["status"] == "duplicate")
        // The registry was rebuilt from disk: the kindergarten is still known.
        #expect(try await again.request(Frames.feed("c", "preschool.census", SampleFeeds.census()))["status"] == "accepted")
        await again.close()
    }
}
