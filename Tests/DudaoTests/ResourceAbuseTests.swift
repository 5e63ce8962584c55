import DudaoCore
import DudaoTesting
import DudaoWire
import NIOCore
import NIOPosix
import Testing

/// Peers that hold resources without doing work: the service keeps serving others, memory stays
/// bounded, and idle or slow peers are cut after the configured timeouts.
@Suite(.serialized) struct ResourceAbuseTests {
    static let settings = #""idle_timeout_seconds": 2, "frame_timeout_seconds": 1"#

    @Test func manyIdleTLSConnectionsAreHeldCheaplyThenCut() async throws {
        // Timeouts long enough to open all of them first, even on a loaded machine (opening 1 000
        // took over 20 s with the CPU oversubscribed threefold).
        let ingest = try IngestFixture(settings: #""idle_timeout_seconds": 45, "frame_timeout_seconds": 30"#)
        defer { ingest.stop() }
        let before = ingest.process.residentKiB
        var idle: [WireClient] = []
        for _ in 0..<1000 {
            let client = try await ingest.connect()
            // One frame each, so the connection is past the first-frame deadline and merely idle.
            _ = try await client.request(Frames.query("s", "ingest.status"))
            idle.append(client)
        }
        let held = ingest.process.residentKiB
        print("1000 idle TLS connections: ingest resident \(before) KiB -> \(held) KiB")
        #expect(held - before < 256 * 1024)
        // Others are still served while they are open.
        let other = try await ingest.connect()
        #expect(try await other.request(Frames.feed("t", "registry.town", SampleFeeds.town))["status"] == "accepted")
        await other.close()
        // After the idle timeout (counted from the last one opened) every one of them has been
        // closed by the server.
        try await Task.sleep(for: .seconds(46))
        var closed = 0
        for client in idle {
            // The end of the stream, or an error from the closed channel: cut either way.
            do {
                if let frame = try await client.receive() {
                    Issue.record("an idle connection got \(JSONWriter.string(frame))")
                } else {
                    closed += 1
                }
            } catch {
                closed += 1
            }
        }
        #expect(closed == idle.count)
    }

    /// The first-frame deadline ends with the TLS handshake: an authenticated peer that has
    /// nothing to send yet (an outbox sender) is idle, not slow, and is not cut before the idle timeout.
    @Test func anAuthenticatedPeerMayWaitBeforeItsFirstFrame() async throws {
        let ingest = try IngestFixture(settings: #""idle_timeout_seconds": 30, "frame_timeout_seconds": 1"#)
        defer { ingest.stop() }
        let client = try await ingest.connect()
        try await Task.sleep(for: .seconds(2.5))
        let reply = try await client.request(Frames.query("s", "ingest.status"))
        #expect(reply["kind"] == "result", "\(JSONWriter.string(reply))")
        await client.close()
    }

    @Test func aSlowLorisIsCutAndOthersAreServed() async throws {
        let ingest = try IngestFixture(settings: Self.settings)
        defer { ingest.stop() }
        let slow = try await ingest.connect()
        let payload = Array(JSONWriter.bytes(Frames.feed("slow", "registry.town", SampleFeeds.town)))
        let framed: [UInt8] = withUnsafeBytes(of: UInt32(payload.count).bigEndian, Array.init) + payload
        let started = ContinuousClock.now
        let channel = slow.channel
        // One byte every 200 ms: the frame is never complete within the 1 s frame timeout.
        let dribble = Task {
            for index in 0..<20 {
                var byte = channel.allocator.buffer(capacity: 1)
                byte.writeInteger(framed[index])
                guard (try? await channel.writeAndFlush(byte)) != nil else { return }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let other = try await ingest.connect()
        #expect(try await other.request(Frames.query("s", "ingest.status"))["kind"] == "result")
        await other.close()
        let error = try await slow.receive()
        #expect(error?["error"]?["code"] == "invalid_frame")
        #expect(try await slow.receive() == nil)
        #expect(ContinuousClock.now - started < .seconds(3))
        dribble.cancel()
    }

    @Test func aHandshakeFloodDoesNotStopService() async throws {
        let ingest = try IngestFixture(settings: Self.settings)
        defer { ingest.stop() }
        // 300 raw TCP connections that never complete a TLS handshake.
        let group = MultiThreadedEventLoopGroup.singleton
        var raw: [any Channel] = []
        for n in 0..<300 {
            let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: ingest.port).get()
            if n % 2 == 0 {
                var junk = channel.allocator.buffer(capacity: 8)
                junk.writeString("\u{16}\u{03}\u{01}\u{00}")  // the start of a ClientHello, never finished
                try await channel.writeAndFlush(junk)
            }
            raw.append(channel)
        }
        let started = ContinuousClock.now
        let client = try await ingest.connect()
        #expect(try await client.request(Frames.query("s", "ingest.status"))["kind"] == "result")
        #expect(ContinuousClock.now - started < .seconds(2))
        await client.close()
        // The stalled ones are cut by the first-frame deadline.
        try await Task.sleep(for: .seconds(2.5))
        var open = 0
        for channel in raw where channel.isActive { open += 1 }
        #expect(open == 0, "\(open) stalled connections still open")
        for channel in raw { try? await channel.close() }
    }
}
