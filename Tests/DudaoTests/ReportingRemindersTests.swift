import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// Reports not sent, through the real executables: the sample city sent to `dudao-ingest`,
/// `dudao-indicators` checking the reporting schedule every half second, `dudao-notify`
/// delivering to a webhook. Three kindergartens of the sample city never sent their safety
/// inventory, due 2025-03-31: each of their towns gets one `data.overdue`; the inventory that
/// arrives ends its town's alert with `data.complete`.
@Suite(.serialized) struct ReportingRemindersTests {
    static let schedule = """
        {"feeds": [
          {"type": "preschool.census", "levels": ["kindergarten"], "yearly": true, "due": "09-30"},
          {"type": "safety.inventory", "levels": ["kindergarten"], "yearly": false, "due": "03-31"}
        ]}
        """

    /// The education bureau's messages of `event` about the 2025 inventories.
    static func inventoryAlerts(_ receiver: NotifyHTTPReceiver, _ event: String) -> [JSONValue] {
        payloads(receiver, "/education").filter {
            $0["event"] == .string(event) && $0["summary"]?.stringValue?.contains("幼儿园安全设施台账（2025年）") == true
        }
    }

    static func payloads(_ receiver: NotifyHTTPReceiver, _ path: String) -> [JSONValue] {
        receiver.delivered.filter { $0.path == path }.compactMap { try? JSONParser.parse($0.body) }
    }

    @Test func overdueReportsReachTheWebhookAndEndWhenSent() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        defer { Task { await receiver.stop() } }
        let directory = try TestDirectory("reporting")
        try directory.write("reporting.json", Self.schedule)
        // Checks rarely while the sample is sent (a check in the middle would rightly find reports
        // missing past their due date, and end those alerts when they came), then every half second.
        func settings(every seconds: Double) -> String {
            #""reporting_file": "\#(directory.file("reporting.json"))", "reporting_check_seconds": \#(seconds)"#
        }
        let system = try IndicatorsFixture(
            settings: settings(every: 3600), notifyRoutes: NotifyFixture.routes(receiver: receiver.url, timing: .init(groupWait: 0)))
        defer { system.stop() }
        let files = try FileManager.default.contentsOfDirectory(atPath: IndicatorsFixture.sampleDataPath)
            .filter { $0.hasSuffix(".jsonl") && !$0.contains("heartbeat") }.sorted().map { "\(IndicatorsFixture.sampleDataPath)/\($0)" }
        let sent = try runTool(
            "dudao", ["send", "--quiet", "--port", String(system.ingest.port), "--certs", system.ingest.pki.directory] + files)
        #expect(sent.status == 0, "\(sent.output)\(sent.error)")
        try await system.waitUntilCaughtUp()
        let notifyPort = try #require(system.notify?.port)
        try system.ingest.root.write(
            "indicators.json", IndicatorsFixture.config(ingestPort: system.ingest.port, notifyPort: notifyPort, settings: settings(every: 0.5)))
        try system.killAndRestartIndicators()
        try await system.waitUntilCaughtUp()

        // Who owes what, as the query says it.
        let client = try await system.connectIndicators()
        let answer = try await client.query("indicators.completeness", body: ["year": 2025, "type": "safety.inventory"])
        let inventory = try #require(answer["feeds"]?[0])
        #expect(inventory["missing"] == 3 && inventory["overdue"] == true, "\(inventory)")
        let owing = (inventory["towns"]?.arrayValue ?? []).filter { ($0["missing"]?.intValue ?? 0) > 0 }
        let owingTowns = Set(owing.compactMap { $0["town_id"]?.stringValue })
        #expect(owingTowns.count == 3)
        let census = try await client.query("indicators.completeness", body: ["year": 2025, "type": "preschool.census"])
        #expect(census["feeds"]?[0]?["missing"] == 0, "every kindergarten of the sample city sent its census")
        let wrong = try await client.request(Frame.query("indicators.completeness", id: "w", body: ["year": 2025, "type": "registry.town"]))
        #expect(wrong["error"]?["path"] == "body.type")
        await client.close()

        // One overdue inventory alert per owing town reaches the education bureau.
        let told = await receiver.wait(seconds: 30) { _ in Set(Self.inventoryAlerts(receiver, "data.overdue").compactMap { $0["scope"]?.stringValue }).count == 3 }
        #expect(told)
        try await Task.sleep(for: .seconds(1.5))
        let overdue = Self.inventoryAlerts(receiver, "data.overdue")
        #expect(Set(overdue.compactMap { $0["scope"]?.stringValue }) == Set(owingTowns.map { "town:\($0)" }))
        #expect(overdue.count == 3, "one each, not once per check: \(overdue.count)")
        #expect(overdue.allSatisfy { $0["severity"] == "warning" && $0["summary"]?.stringValue?.contains("幼儿园安全设施台账（2025年）已逾期") == true })

        // Projects past their due date and not done are alerted (routed, in deploy/routes.json, to
        // natural resources, housing and development; here to the education bureau, grouped by
        // event and town). With no group wait, an event that reaches notify in a later batch than
        // the first goes out in a second message of the group: one or two messages, never more.
        let projects = Self.payloads(receiver, "/education").filter { $0["event"] == "project.behind" }
        #expect((1...2).contains(projects.count), "\(projects.count) messages")
        #expect((projects.first?["count"]?.intValue ?? 0) >= 1)
        #expect(projects.contains { JSONWriter.string($0).contains("恩平市实验幼儿园新建工程 已超过完工日期 2024-08-31") })

        // The first owing kindergarten sends its inventory: its town's alert ends.
        let first = try #require(owing.first)
        let kindergarten = try #require(first["missing_institutions"]?[0]?["institution_id"]?.stringValue)
        try system.ingest.root.write(
            "inventory.jsonl",
            #"{"institution_id":"\#(kindergarten)","alarm_devices":[],"cctv_police_linked":true,"cameras":4,"cameras_linked":4,"closed_management":true,"guards_required":1,"guards_full_time":1}"#)
        let late = try runTool(
            "dudao", ["send", "--type", "safety.inventory", "--port", String(system.ingest.port), "--certs", system.ingest.pki.directory,
                      system.ingest.root.file("inventory.jsonl")])
        #expect(late.output.contains("1 accepted"), "\(late.output)\(late.error)")
        let town = try #require(first["town_id"]?.stringValue)
        let ended = await receiver.wait(seconds: 30) { _ in Self.inventoryAlerts(receiver, "data.complete").contains { $0["scope"] == .string("town:\(town)") } }
        #expect(ended)
        let complete = Self.inventoryAlerts(receiver, "data.complete")
        #expect(complete.count == 1 && complete.first?["status"] == "resolved", "\(complete)")
    }
}
