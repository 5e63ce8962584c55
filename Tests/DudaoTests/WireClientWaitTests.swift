import DudaoCore
import DudaoTesting
import DudaoWire
import Testing

/// A log consumer lingering for more records waits with ``WireClient/waitForFrames(timeout:)``:
/// it must wake when a frame arrives or the connection ends, not only when its wait is over.
@Suite struct WireClientWaitTests {
    @Test func aWaitEndsWhenAFrameArrives() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect()
        #expect(!client.hasBufferedFrames)
        let clock = ContinuousClock()
        // Nothing sent: the wait lasts its timeout.
        let quiet = await clock.measure { await client.waitForFrames(timeout: .milliseconds(50)) }
        #expect(quiet >= .milliseconds(50))
        #expect(!client.hasBufferedFrames)
        // A query's reply ends a wait of a minute long before the minute is over.
        try await client.send(Frames.query("s", "ingest.status"))
        let answered = await clock.measure { await client.waitForFrames(timeout: .seconds(60)) }
        #expect(answered < .seconds(30), "woken by the reply, not the timeout")
        #expect(client.hasBufferedFrames)
        #expect(try await client.receive()?["kind"] == "result")
        #expect(!client.hasBufferedFrames)
        // The connection ending wakes it too.
        ingest.stop()
        let ended = await clock.measure { await client.waitForFrames(timeout: .seconds(60)) }
        #expect(ended < .seconds(30), "woken by the end of the connection")
    }
}
