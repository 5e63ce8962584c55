import DudaoCore
import DudaoTesting
import DudaoWire
import NIOConcurrencyHelpers
import Testing

@testable import dudao
@testable import dudao_safety

/// The real `dudao-ingest` and `dudao-safety` executables over mutual TLS: a silent device's
/// offline event and an alarm's critical event are queued exactly once, survive `kill -9`, and
/// reach the notify port once it listens.
@Suite(.serialized) struct SafetyEndToEndTests {
    /// `offline_after` 7 s against heartbeats every 250 ms: room for a loaded CI machine, where a
    /// restarted safety can take a few seconds to hear the pump again (2 s was seen to fail), and
    /// where the pump itself stalled for more than 4 s while ResourceAbuseTests opened 1 000 TLS
    /// connections from the same test process (4 s was seen to fail).
    static let settings = #""offline_after_seconds": 7, "check_interval_seconds": 0.1, "hold_down_seconds": 0"#

    /// Two towns, two kindergartens, their inventories.
    static func register(_ fixture: SafetyFixture) async throws {
        let client = try await fixture.ingest.connect()
        for (n, (type, body)) in [
            ("registry.town", SampleFeeds.town), ("registry.town", SampleFeeds.otherTown),
            ("registry.institution", SampleFeeds.kindergarten), ("registry.institution", SampleFeeds.otherKindergarten),
            (
                "safety.inventory",
                [
                    "institution_id": "kg-dongcheng-01", "alarm_devices": ["alarm-1", "alarm-2"], "cctv_police_linked": true,
                    "cameras": 24, "cameras_linked": 24, "closed_management": true, "guards_required": 2, "guards_full_time": 2,
                ]
            ),
            (
                "safety.inventory",
                [
                    "institution_id": "kg-encheng-01", "alarm_devices": ["alarm-3"], "cctv_police_linked": false, "cameras": 10,
                    "cameras_linked": 0, "closed_management": true, "guards_required": 1, "guards_full_time": 1,
                ]
            ),
        ].enumerated() {
            let reply = try await client.request(Frames.feed("setup-\(n)", type, body))
            #expect(reply["status"] == "accepted", "\(JSONWriter.string(reply))")
        }
        await client.close()
    }

    /// Sends a heartbeat (`at` = now) for every device in `devices` (device → institution)
    /// every 250 ms until cancelled.
    static func heartbeats(_ fixture: SafetyFixture, devices: NIOLockedValueBox<[String: String]>) -> Task<Void, Never> {
        Task {
            guard let client = try? await fixture.ingest.connect(as: "police-video-platform") else { return }
            var n = 0
            while !Task.isCancelled {
                for (device, institution) in devices.withLockedValue({ $0 }).sorted(by: { $0.key < $1.key }) {
                    n += 1
                    let body: JSONValue = [
                        "device_id": .string(device), "institution_id": .string(institution), "device_kind": "alarm",
                        "at": .string(Timestamp.now().description), "status": "ok",
                    ]
                    _ = try? await client.request(Frames.feed("hb-\(device)-\(n)", "safety.heartbeat", body))
                }
                try? await Task.sleep(for: .milliseconds(250))
            }
            await client.close()
        }
    }

    static func queued(_ fixture: SafetyFixture, _ type: String) async throws -> [JSONValue] {
        try await fixture.outbox().filter { $0["type"]?.stringValue == type }
    }

    @Test func silentDeviceGoesOfflineOnceAndStaysOfflineAcrossKillNine() async throws {
        let fixture = try SafetyFixture(settings: Self.settings)
        defer { fixture.stop() }
        try await Self.register(fixture)
        let beating = NIOLockedValueBox(["alarm-1": "kg-dongcheng-01", "alarm-2": "kg-dongcheng-01", "alarm-3": "kg-encheng-01"])
        let pump = Self.heartbeats(fixture, devices: beating)
        defer { pump.cancel() }
        #expect(try await SafetyFixture.eventually(within: 20) { try await fixture.query("safety.status")["body"]?["online"] == 3 })

        // alarm-2 falls silent.
        beating.withLockedValue { $0["alarm-2"] = nil }
        #expect(try await SafetyFixture.eventually(within: 20) { try await !Self.queued(fixture, "safety.device_offline").isEmpty })
        try await Task.sleep(for: .seconds(1))
        var offline = try await Self.queued(fixture, "safety.device_offline")
        #expect(offline.map { $0["body"]?["device_id"] } == ["alarm-2"])
        let event = try #require(offline.first)
        let id = try #require(event["id"]?.stringValue)
        #expect(id.hasPrefix("safety:offline:alarm-2:"))
        #expect(event["body"]?["severity"] == "warning")
        #expect(event["body"]?["status"] == "firing")
        #expect(event["body"]?["town_id"] == "dongcheng")
        #expect(event["body"]?["institution_id"] == "kg-dongcheng-01")
        #expect(event["body"]?["scope"] == "institution:kg-dongcheng-01")

        // kill -9 and restart: the event is queued once, alarm-2 is still offline, and the
        // devices that kept reporting are not declared offline (longer than offline_after later).
        try fixture.killAndRestart()
        try await Task.sleep(for: .seconds(8))  // longer than offline_after
        offline = try await Self.queued(fixture, "safety.device_offline")
        #expect(offline.map { $0["id"] } == [.string(id)])
        let devices = try await fixture.query("safety.devices", ["state": "problem"])["body"]
        #expect(devices?["devices"]?.arrayValue?.map { $0["device_id"] } == ["alarm-2"])
        #expect(devices?["devices"]?.arrayValue?.first?["state"] == "offline")
        let rates = try await fixture.query("safety.rates", ["scope": "city"])["body"]
        #expect(rates?["alarms_online"] == 2)
        #expect(rates?["devices_offline"] == 1)

        // dudao-notify appears: the queued event is delivered, once.
        let sink = try await EventSink.start(tls: fixture.pki.files("dudao-notify").makeServerContext())
        try fixture.killAndRestart(notifyPort: sink.port)
        #expect(try await SafetyFixture.eventually(within: 20) { try await fixture.outbox().isEmpty })
        #expect(sink.received.filter { $0.type == "safety.device_offline" }.map(\.id) == [id])

        // alarm-2 reports again: one online event (resolved) reaches notify.
        beating.withLockedValue { $0["alarm-2"] = "kg-dongcheng-01" }
        #expect(try await SafetyFixture.eventually(within: 20) { sink.received.contains { $0.type == "safety.device_online" } })
        let online = sink.received.filter { $0.type == "safety.device_online" }
        #expect(online.count == 1)
        #expect(online.first?.body["status"] == "resolved")
        #expect(online.first?.body["alert_key"] == "device:alarm-2")
        #expect(sink.received.allSatisfy { !$0.duplicate })
        pump.cancel()
        await sink.close()
    }

    @Test func alarmIsQueuedOnceAcrossKillNineAndDeliveredOnce() async throws {
        let fixture = try SafetyFixture(settings: Self.settings)
        defer { fixture.stop() }
        try await Self.register(fixture)
        let client = try await fixture.ingest.connect(as: "police-video-platform")
        let at = Timestamp.now()
        let alarm: JSONValue = ["device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "at": .string(at.description), "note": "演练"]
        #expect(try await client.request(Frames.feed("alarm-a", "safety.alarm", alarm))["status"] == "accepted")
        // Killed right after the ingest acknowledged it, perhaps before safety applied it.
        try fixture.killAndRestart()
        let id = "safety:alarm:alarm-1:\(at.millis)"
        #expect(try await SafetyFixture.eventually(within: 20) { try await !Self.queued(fixture, "safety.alarm").isEmpty })
        var alarms = try await Self.queued(fixture, "safety.alarm")
        #expect(alarms.map { $0["id"] } == [.string(id)])
        let body = alarms.first?["body"]
        #expect(body?["severity"] == "critical")
        #expect(body?["town_id"] == "dongcheng")
        #expect(body?["institution_id"] == "kg-dongcheng-01")
        #expect(body?["device_id"] == "alarm-1")
        #expect(body?["summary"]?.stringValue?.contains("一键报警") == true)

        // The same alarm again: the identical body is stale at the ingest; a corrected note is a
        // new version of the same key, which safety recognises as the same alarm.
        #expect(try await client.request(Frames.feed("alarm-b", "safety.alarm", alarm))["status"] == "stale")
        var corrected = alarm.objectValue!
        corrected["note"] = "演练（更正）"
        #expect(try await client.request(Frames.feed("alarm-c", "safety.alarm", .object(corrected)))["status"] == "accepted")
        await client.close()
        try fixture.killAndRestart()
        try await Task.sleep(for: .seconds(1))
        alarms = try await Self.queued(fixture, "safety.alarm")
        #expect(alarms.map { $0["id"] } == [.string(id)])
        #expect(try await fixture.query("safety.alarms")["body"]?["count"] == 1)

        // Delivered once when notify listens; a later kill -9 does not send it again.
        let sink = try await EventSink.start(tls: fixture.pki.files("dudao-notify").makeServerContext())
        try fixture.killAndRestart(notifyPort: sink.port)
        #expect(try await SafetyFixture.eventually(within: 20) { try await fixture.outbox().isEmpty })
        try fixture.killAndRestart()
        try await Task.sleep(for: .seconds(1))
        #expect(sink.received.filter { $0.type == "safety.alarm" }.map(\.id) == [id])
        await sink.close()
    }

    /// The test access file plus a town office that may ask about its own town only.
    static let access = """
        {"identities": {
          "dudao-safety": {"role": "service"},
          "operator": {"role": "operator"},
          "town-dongcheng": {"queries": ["safety.*"], "towns": ["dongcheng"]}
        }}
        """

    @Test func staffViewAccessAndRefusals() async throws {
        let fixture = try SafetyFixture(settings: Self.settings, access: Self.access)
        defer { fixture.stop() }
        try await Self.register(fixture)
        let client = try await fixture.ingest.connect(as: "police-video-platform")
        for device in ["alarm-1", "alarm-2", "alarm-3"] {
            let institution = device == "alarm-3" ? "kg-encheng-01" : "kg-dongcheng-01"
            _ = try await client.request(
                Frames.feed(
                    "hb-\(device)", "safety.heartbeat",
                    ["device_id": .string(device), "institution_id": .string(institution), "device_kind": "alarm",
                     "at": .string(Timestamp.now().description), "status": device == "alarm-3" ? "fault" : "ok"]))
        }
        await client.close()
        #expect(try await SafetyFixture.eventually(within: 20) { try await fixture.query("safety.status")["body"]?["devices"] == 3 })

        let result = try runTool(
            "dudao", ["safety", "--port", String(fixture.port), "--certs", fixture.pki.directory, "--identity", "operator"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("东成镇"))
        #expect(result.output.contains("恩城街道"))
        #expect(result.output.contains("全市"))
        #expect(result.output.contains("一键报警"))
        #expect(result.output.contains("alarm-3"))
        #expect(result.output.contains("故障"))
        // 恩城街道: its kindergarten is not linked to the police.
        let encheng = result.output.split(separator: "\n").first { $0.hasPrefix("恩城街道") }.map(String.init) ?? ""
        #expect(encheng.contains("0.0%"), "\(result.output)")

        // The same lists as a workbook, read back by openpyxl.
        let workbook = fixture.root.file("safety.xlsx")
        let exported = try runTool(
            "dudao", ["safety", "--xlsx", workbook, "--port", String(fixture.port), "--certs", fixture.pki.directory, "--identity", "operator"])
        #expect(exported.status == 0, "\(exported.error)")
        let sheets = try PyPI.openpyxlSheets(of: workbook, repoRoot: EvaluationFixture.repoRoot)
        let enchengRow = sheets["镇街合规"]?.first { $0.first == "恩城街道" }
        #expect(enchengRow?[5] == "0.0" || enchengRow?[5] == "0", "\(String(describing: sheets["镇街合规"]))")
        #expect(sheets["镇街合规"]?.last?.first == "全市")
        #expect(sheets["设备"]?.contains { $0.count > 1 && $0[0] == "故障" && $0[1] == "alarm-3" } == true, "\(String(describing: sheets["设备"]))")
        #expect(sheets["未关闭报警"]?.first == ["报警时间", "镇街", "机构", "设备编号", "备注"])

        // A graceful restart (SIGTERM) keeps each device's latest heartbeat, which is written lazily.
        let later = Timestamp(millis: Timestamp.now().millis + 1)
        let again = try await fixture.ingest.connect(as: "police-video-platform")
        _ = try await again.request(
            Frames.feed(
                "hb-alarm-1-later", "safety.heartbeat",
                ["device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "device_kind": "alarm", "at": .string(later.description), "status": "ok"]))
        await again.close()
        func lastHeartbeat() async throws -> JSONValue? {
            try await fixture.query("safety.devices", ["state": "all"])["body"]?["devices"]?.arrayValue?
                .first { $0["device_id"] == "alarm-1" }?["last_heartbeat_at"]
        }
        #expect(try await SafetyFixture.eventually(within: 20) { try await lastHeartbeat() == .string(later.description) })
        try fixture.restart()
        #expect(try await lastHeartbeat() == .string(later.description))

        // Identities not in the access file are refused; a town office sees its own town only.
        #expect(try await fixture.query("safety.rates", as: "stranger")["error"]?["code"] == "forbidden")
        #expect(try await fixture.query("safety.rates", ["scope": "town:dongcheng"], as: "town-dongcheng")["kind"] == "result")
        #expect(try await fixture.query("safety.rates", ["scope": "city"], as: "town-dongcheng")["error"]?["code"] == "forbidden")
        #expect(try await fixture.query("safety.devices", ["scope": "town:encheng"], as: "town-dongcheng")["error"]?["code"] == "forbidden")
        let overview = try await fixture.query("safety.overview", ["scope": "town:dongcheng"], as: "town-dongcheng")
        #expect(overview["error"]?["code"] == "forbidden", "the overview is every town's")
        #expect(overview["error"]?["path"] == "type")
        // Feeds are not taken here.
        let safety = try await fixture.connect()
        let feed = try await safety.request(Frames.feed("f", "safety.heartbeat", [:]))
        #expect(feed["kind"] == "nack")
        #expect(feed["error"]?["code"] == "invalid_envelope")
        let unknown = try await safety.request(Frames.query("u", "safety.nothing"))
        #expect(unknown["error"]?["code"] == "unknown_type")
        let badScope = try await safety.request(Frames.query("s", "safety.rates", ["scope": "town:nowhere"]))
        #expect(badScope["error"]?["code"] == "unknown_reference")
        #expect(badScope["error"]?["path"] == "body.scope")
        await safety.close()
    }
}
