import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// `safety.alarm_online_rate` has one owner rule (`DeviceOnline`): the real `dudao-safety`
/// (port 7403) and `dudao-indicators` (port 7402), fed by one real `dudao-ingest`, answer the
/// same number for the city and for each town.
///
/// The devices are chosen so that each of the old rules gave another number: `alarm-2`'s clock
/// runs ten minutes slow (online by receipt time, offline by its own `at`), `alarm-3` reports a
/// fault, and `alarm-9` reports from a kindergarten whose inventory does not list it (watched,
/// but not one of its installed alarms).
@Suite(.serialized) struct AlarmOnlineRateTests {
    @Test func bothServicesAnswerTheSameAlarmOnlineRate() async throws {
        let fixture = try SafetyFixture()
        defer { fixture.stop() }
        try await SafetyEndToEndTests.register(fixture)
        let client = try await fixture.ingest.connect(as: "police-video-platform")
        let now = Timestamp.now()
        for (n, (device, institution, at, status)) in [
            ("alarm-1", "kg-dongcheng-01", now, "ok"),
            ("alarm-2", "kg-dongcheng-01", Timestamp(millis: now.millis - 600_000), "ok"),
            ("alarm-3", "kg-encheng-01", now, "fault"),
            ("alarm-9", "kg-dongcheng-01", now, "ok"),
        ].enumerated() {
            let body: JSONValue = [
                "device_id": .string(device), "institution_id": .string(institution), "device_kind": "alarm",
                "at": .string(at.description), "status": .string(status),
            ]
            let reply = try await client.request(Frames.feed("hb-\(n)", "safety.heartbeat", body))
            #expect(reply["status"] == "accepted", "\(JSONWriter.string(reply))")
        }
        await client.close()

        let root = fixture.root
        try root.write("indicators.json", IndicatorsFixture.config(ingestPort: fixture.ingest.port))
        let indicators = try IndicatorsFixture.launch(configPath: root.file("indicators.json"), root: root, port: 0, generation: 0)
        defer { indicators.stop() }
        try await fixture.ingest.waitUntilConsumed(by: ["dudao-safety", "dudao-indicators"])

        func fromSafety(_ scope: String) async throws -> JSONValue? {
            let body = try await fixture.query("safety.rates", ["scope": .string(scope)])["body"]
            return body?["rates"]?.arrayValue?.first { $0["id"] == "safety.alarm_online_rate" }
        }
        func fromIndicators(_ scope: String) async throws -> JSONValue? {
            let connection = try await WireClient.connect(
                host: "127.0.0.1", port: indicators.port, tls: try fixture.pki.clientContext("operator"), serverIdentity: "dudao-indicators")
            let reply = try await connection.request(
                Frame.query("indicators.evaluate", id: "e", body: ["year": 2025, "scope": .string(scope)]))
            await connection.close()
            return reply["body"]?["indicators"]?.arrayValue?.first { $0["id"] == "safety.alarm_online_rate" }
        }
        // Listed: alarm-1, alarm-2 (dongcheng), alarm-3 (encheng); online: alarm-1, alarm-2.
        for (scope, value, numerator, denominator) in [
            ("city", 100.0 * 2 / 3, 2, 3), ("town:dongcheng", 100.0, 2, 2), ("town:encheng", 0.0, 0, 1),
        ] {
            let safety = try #require(try await fromSafety(scope), "safety.rates \(scope)")
            let indicator = try #require(try await fromIndicators(scope), "indicators.evaluate \(scope)")
            #expect(safety["value"]?.doubleValue == value, "\(scope) on 7403: \(JSONWriter.string(safety))")
            #expect(indicator["value"]?.doubleValue == safety["value"]?.doubleValue, "\(scope): 7402 \(JSONWriter.string(indicator))")
            #expect(safety["numerator"]?.intValue == Int64(numerator) && safety["denominator"]?.intValue == Int64(denominator))
            #expect(indicator["numerator"]?.doubleValue == Double(numerator) && indicator["denominator"]?.doubleValue == Double(denominator))
            #expect(safety["status"] == "tracked" && indicator["status"] == "tracked")
        }
    }
}
