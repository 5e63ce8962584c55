import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import NIOConcurrencyHelpers
import Testing

/// SIGTERM quiesces the frame server: every feed the ingest read is answered before its
/// connection closes, so a client never has a feed stored without having seen its ack.
@Suite(.serialized) struct GracefulShutdownTests {
    static func heartbeat(_ n: Int) -> JSONValue {
        Frames.feed(
            "term-\(n)", "safety.heartbeat",
            SampleFeeds.heartbeat(device: "dev-\(n % 500)", at: Timestamp(millis: 1_780_000_000_000 + Int64(n) * 1000).description))
    }

    @Test func sigtermAnswersEveryFeedItReadBeforeClosing() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        try await ingest.registerSampleKindergarten()

        // One connection keeps 1 000 feeds in flight; SIGTERM arrives after 100 replies. (Small:
        // other suites run beside this one and time their services.)
        let total = 4_000
        let client = try await ingest.connect()
        var answered: [String] = []
        var endedWith = "close"
        let pid = ingest.process.pid
        var next = 0
        do {
            while true {
                while next < total, next - answered.count < 1_000 {
                    try await client.send(Self.heartbeat(next), flush: false)
                    next += 1
                }
                client.flush()
                guard let reply = try await client.receive() else { break }
                #expect(reply["kind"] == "ack", "\(JSONWriter.string(reply))")
                answered.append(reply["id"]?.stringValue ?? "?")
                if answered.count == 100 { kill(pid, SIGTERM) }
            }
        } catch {
            endedWith = "\(error)"
        }
        await client.close()
        let stoppedAt = ContinuousClock.now
        let status = try ingest.terminateAndRestart()
        #expect(status == 0, "dudao-ingest exited \(status) after SIGTERM")
        #expect(ContinuousClock.now - stoppedAt < .seconds(10))
        #expect(answered.count >= 100 && answered.count < total, "answered \(answered.count) (ended with \(endedWith))")
        // Replies came in order for a prefix of what was sent.
        #expect(answered == (0..<answered.count).map { "term-\($0)" })

        // After the restart: each answered feed is stored (duplicate), each unanswered one was
        // never stored (accepted): the server committed nothing it did not acknowledge.
        let again = try await ingest.connect()
        var storedUnanswered: [String] = []
        var lostAnswered: [String] = []
        var resend = 0
        var pending: [Int] = []
        while resend < total || !pending.isEmpty {
            while resend < total, pending.count < 256 {
                try await again.send(Self.heartbeat(resend), flush: false)
                pending.append(resend)
                resend += 1
            }
            again.flush()
            let reply = try #require(try await again.receive())
            let n = pending.removeFirst()
            let outcome = reply["status"]?.stringValue
            if n < answered.count, outcome != "duplicate" { lostAnswered.append("term-\(n): \(outcome ?? "?")") }
            if n >= answered.count, outcome != "accepted" { storedUnanswered.append("term-\(n): \(outcome ?? "?")") }
        }
        await again.close()
        #expect(lostAnswered.isEmpty, "acknowledged before SIGTERM but not stored: \(lostAnswered.prefix(5))")
        #expect(storedUnanswered.isEmpty, "stored without an ack: \(storedUnanswered.count), e.g. \(storedUnanswered.prefix(5))")
    }
}
