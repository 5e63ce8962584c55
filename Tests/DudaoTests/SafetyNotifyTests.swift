import DudaoCore
import DudaoTesting
import DudaoWire
import NIOConcurrencyHelpers
import Testing

/// The whole chain through the real executables: heartbeats and alarms sent to `dudao-ingest`,
/// judged by `dudao-safety`, routed and delivered by `dudao-notify` to the departments' webhooks.
@Suite(.serialized) struct SafetyNotifyTests {
    static func payloads(_ receiver: NotifyHTTPReceiver, _ path: String) -> [JSONValue] {
        receiver.delivered.filter { $0.path == path }.compactMap { try? JSONParser.parse($0.body) }
    }

    @Test func silentDeviceAndAlarmReachThePoliceWebhook() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        let fixture = try SafetyFixture(
            settings: SafetyEndToEndTests.settings,
            notifyRoutes: NotifyFixture.routes(receiver: receiver.url, timing: .init(groupWait: 0)))
        defer { fixture.stop() }
        try await SafetyEndToEndTests.register(fixture)
        let beating = NIOLockedValueBox(["alarm-1": "kg-dongcheng-01", "alarm-2": "kg-dongcheng-01"])
        let pump = SafetyEndToEndTests.heartbeats(fixture, devices: beating)
        defer { pump.cancel() }
        #expect(try await SafetyFixture.eventually(within: 20) { try await fixture.query("safety.status")["body"]?["online"] == 2 })

        // alarm-2 falls silent: the police, the education bureau and the town are told, once each.
        beating.withLockedValue { $0["alarm-2"] = nil }
        // Each department's delivery is its own: wait until all three have one (on a loaded
        // machine the third can come more than a second after the first), then a second more
        // for any duplicate.
        let told = await receiver.wait(seconds: 20) { requests in
            ["/police", "/education", "/town/dongcheng"].allSatisfy { path in
                requests.contains { $0.path == path && $0.text.contains("safety.device_offline") }
            }
        }
        #expect(told)
        try await Task.sleep(for: .seconds(1))
        for path in ["/police", "/education", "/town/dongcheng"] {
            let offline = Self.payloads(receiver, path).filter { $0["event"] == "safety.device_offline" }
            #expect(offline.count == 1, "\(path): \(offline.count) offline messages")
            #expect(offline.first?["severity"] == "warning")
            #expect(offline.first?["status"] == "firing")
            #expect(offline.first?["summary"]?.stringValue?.contains("alarm-2") == true)
        }

        // A one-key alarm: critical, at once.
        let client = try await fixture.ingest.connect(as: "police-video-platform")
        let at = Timestamp.now()
        let alarm: JSONValue = ["device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "at": .string(at.description), "note": "门口"]
        #expect(try await client.request(Frames.feed("alarm-1", "safety.alarm", alarm))["status"] == "accepted")
        await client.close()
        let paged = await receiver.wait(seconds: 20) { requests in
            requests.contains { $0.path == "/police" && $0.text.contains("\"event\":\"safety.alarm\"") }
        }
        #expect(paged)
        let page = Self.payloads(receiver, "/police").first { $0["event"] == "safety.alarm" }
        #expect(page?["severity"] == "critical")
        #expect(page?["summary"]?.stringValue?.contains("东成镇中心幼儿园") == true)
        #expect(page?["summary"]?.stringValue?.contains("门口") == true)
        pump.cancel()
        await receiver.stop()
    }
}
