import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// Two real `dudao-ingest` instances on one PostgreSQL database and a real `dudao-safety`
/// following the first (`ingest.failover` names the second). The first is killed with
/// `kill -9`: safety follows the same log through the second, and an alarm sent there after
/// the kill becomes its critical event once.
@Suite(.serialized) struct ConsumerFailoverTests {
    @Test func safetyFollowsTheLogThroughTheOtherInstanceWhenItsIngestDies() async throws {
        let url = try PostgresServer.shared.freshDatabase("failover")
        // The second instance's port is chosen first, so safety's configuration can name it.
        let secondPort = try freeLoopbackPort()
        let fixture = try SafetyFixture(
            ingestEnvironment: ["DUDAO_INGEST_DATABASE": url],
            environment: ["DUDAO_SAFETY_INGEST_FAILOVER": "127.0.0.1:\(secondPort)"])
        defer { fixture.stop() }
        let second = try fixture.ingest.launchInstance(port: secondPort, label: "second")
        defer { second.stop() }
        try await SafetyEndToEndTests.register(fixture)
        try await fixture.ingest.waitUntilConsumed(by: ["dudao-safety"], port: second.port)

        fixture.ingest.process.kill9()
        let client = try await fixture.ingest.connect(as: "police-video-platform", port: second.port)
        let alarm: JSONValue = [
            "device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "at": .string(Timestamp.now().description),
        ]
        #expect(try await client.request(Frames.feed("alarm-after-failover", "safety.alarm", alarm))["status"] == "accepted")
        // Sent twice: the second is a duplicate at the ingest, not a second event.
        #expect(try await client.request(Frames.feed("alarm-after-failover", "safety.alarm", alarm))["status"] == "duplicate")
        await client.close()

        let log = { (try? String(contentsOfFile: fixture.root.file("safety-0.log"), encoding: .utf8)) ?? "" }
        do {
            try await fixture.ingest.waitUntilConsumed(by: ["dudao-safety"], port: second.port, timeout: .seconds(30))
        } catch {
            Issue.record("\(error); safety's log:\n\(log())")
            return
        }
        let events = try await SafetyEndToEndTests.queued(fixture, "safety.alarm")
        #expect(events.count == 1, "one critical event for the alarm: \(events.map(JSONWriter.string))")
        #expect(log().contains("127.0.0.1:\(secondPort)"), "safety's log names the instance it moved to")
    }
}
