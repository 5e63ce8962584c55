import DudaoCore
import DudaoTesting
import DudaoWire
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// A client that never reads its acks makes the server stop reading (TCP backpressure) instead
/// of buffering without bound.
@Suite(.serialized) struct BackpressureTests {
    @Test func aClientThatDoesNotReadIsThrottledAndMemoryStaysBounded() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect()
        _ = try await client.request(Frames.feed("t", "registry.town", SampleFeeds.town))
        _ = try await client.request(Frames.feed("k", "registry.institution", SampleFeeds.kindergarten))
        let rssBefore = ingest.process.residentKiB

        // 60 000 frames (about 14 MB) written without reading a single reply.
        let total = 60_000
        let written = NIOLockedValueBox(0)
        let channel = client.channel
        for n in 0..<total {
            let payload = JSONWriter.bytes(
                Frames.feed("bp-\(n)", "safety.heartbeat",
                    ["device_id": .string("bp-\(n % 100)"), "institution_id": "kg-dongcheng-01", "device_kind": "alarm",
                     "at": .string(Timestamp(millis: 1_780_000_000_000 + Int64(n)).description), "status": "ok"]))
            var buffer = channel.allocator.buffer(capacity: payload.count + 4)
            buffer.writeInteger(UInt32(payload.count), endianness: .big)
            buffer.writeBytes(payload)
            channel.write(buffer).whenSuccess { written.withLockedValue { $0 += 1 } }
        }
        channel.flush()
        try await Task.sleep(for: .seconds(3))
        let stalledAt = written.withLockedValue { $0 }
        let rssStalled = ingest.process.residentKiB
        // The server stopped reading: most frames are still queued in the client.
        #expect(stalledAt < total / 2, "the server kept reading (\(stalledAt) of \(total) frames taken)")
        #expect(rssStalled - rssBefore < 64 * 1024, "server memory grew by \(rssStalled - rssBefore) KiB")

        // Once the client reads, everything flows and every frame gets its reply, in order.
        for n in 0..<total {
            let reply = try #require(try await client.receive())
            if reply["id"] != .string("bp-\(n)") {
                Issue.record("reply \(n) is \(JSONWriter.string(reply))")
                break
            }
        }
        #expect(written.withLockedValue { $0 } == total)
        await client.close()
    }
}
