import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// The wire contract of `dudao-notify`: events acknowledged once, refused with a path, access by
/// role; queries; a bad routes file refused at start with its line; the CLI verbs.
@Suite(.serialized) struct NotifyProtocolTests {
    @Test func eventsAreDedupedRefusedWithPathsAndCheckedForAccess() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url))
        defer { notify.stop() }
        let event = NotifyFixture.event("e1", key: "device:x1", device: "x1")
        var replies = try await notify.send([event, event])
        #expect(replies[0] == Reply.ack(id: "e1", status: .accepted))
        #expect(replies[1] == Reply.ack(id: "e1", status: .duplicate))
        // (sender, id) is the key: the same id from another service is its own event.
        replies = try await notify.send([event], as: "dudao-indicators")
        #expect(replies[0]["status"] == "accepted")

        func expectNack(_ frame: JSONValue, as identity: String = "dudao-safety", code: String, path: String?) async throws {
            let reply = try await notify.send([frame], as: identity)[0]
            #expect(reply["kind"] == "nack", "\(JSONWriter.string(frame))")
            #expect(reply["error"]?["code"] == .string(code), "\(JSONWriter.string(reply))")
            if let path { #expect(reply["error"]?["path"] == .string(path), "\(JSONWriter.string(reply))") }
        }
        try await expectNack(NotifyFixture.event("e2", key: "k"), as: "kg-census-system", code: "forbidden", path: "type")
        try await expectNack(NotifyFixture.event("e3", key: "k"), as: "operator", code: "forbidden", path: "type")
        try await expectNack(
            NotifyFixture.event("e4", severity: "urgent", key: "k"), code: "invalid_field", path: "body.severity")
        try await expectNack(NotifyFixture.event("e5", key: "k", status: "ongoing"), code: "invalid_field", path: "body.status")
        try await expectNack(NotifyFixture.event("e6", key: "k", scope: "province"), code: "invalid_field", path: "body.scope")
        try await expectNack(NotifyFixture.event("e7", key: "k", at: "yesterday"), code: "invalid_field", path: "body.at")
        try await expectNack(["v": 1, "kind": "event", "id": "e8", "body": [:]], code: "invalid_envelope", path: "type")
        try await expectNack(
            ["v": 1, "kind": "feed", "id": "e9", "type": "x", "body": [:]], code: "invalid_envelope", path: "kind")
        try await expectNack(Frames.query("q1", "alerts.explode"), code: "unknown_type", path: "type")
        try await expectNack(
            Frames.query("q2", "alerts.ack", ["alert_id": "ffffffffffff"]), code: "unknown_reference", path: "body.alert_id")
        try await expectNack(Frames.query("q3", "alerts.list", ["status": "burning"]), code: "invalid_field", path: "body.status")
        try await expectNack(
            Frames.query("q4", "silences.add", ["matchers": ["colour": "red"], "duration_seconds": 60]), code: "invalid_field",
            path: "body.matchers.colour")
        try await expectNack(
            Frames.query("q5", "alerts.ack", ["alert_id": "ffffffffffff"]), as: "kg-census-system", code: "forbidden",
            path: "type")
        // kg-census-system may list.
        #expect(try await notify.query("alerts.list", as: "kg-census-system")["kind"] == "result")
        await receiver.stop()
    }

    @Test func alertsListFiltersByStatusAndDepartment() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url))
        defer { notify.stop() }
        _ = try await notify.send([
            NotifyFixture.event("l1", key: "device:l1", device: "l1"),
            NotifyFixture.event("l2", key: "device:l2", device: "l2"),
            NotifyFixture.event(
                "l2-back", type: "safety.device_online", severity: "info", key: "device:l2", status: "resolved", device: "l2"),
        ])
        _ = try await notify.send([NotifyDeliveryTests.indicatorEvent("l3")], as: "dudao-indicators")
        func ids(_ body: JSONValue) async throws -> Set<String> {
            let reply = try await notify.query("alerts.list", body)
            return Set((reply["body"]?["alerts"]?.arrayValue ?? []).compactMap { $0["alert_key"]?.stringValue })
        }
        #expect(try await ids([:]) == ["device:l1", "indicator:preschool.certified_teacher_rate:2025:city"])
        #expect(try await ids(["status": "resolved"]) == ["device:l2"])
        #expect(try await ids(["status": "all", "department": "police"]) == ["device:l1", "device:l2"])
        #expect(try await ids(["status": "all", "department": "town:dongcheng"]) == ["device:l1", "device:l2"])
        #expect(try await ids(["status": "all", "limit": 1]).count == 1)
        #expect(try await ids(["status": "all", "event": "safety.*"]) == ["device:l1", "device:l2"])
        #expect(try await ids(["status": "all", "event": "indicator.not_met"]) == ["indicator:preschool.certified_teacher_rate:2025:city"])
        // Paging: one alert per page, newest first, every alert once.
        var paged: [String] = []
        for offset in 0..<4 { paged += try await ids(["status": "all", "limit": 1, "offset": .int(Int64(offset))]) }
        #expect(paged.count == 3 && Set(paged) == ["device:l1", "device:l2", "indicator:preschool.certified_teacher_rate:2025:city"])
        let badOffset = try await notify.query("alerts.list", ["offset": -1])
        #expect(badOffset["error"]?["path"] == "body.offset", "\(JSONWriter.string(badOffset))")
        let one = try await notify.query("alerts.list", ["status": "resolved"])
        let alert = try #require(one["body"]?["alerts"]?.arrayValue?.first)
        for member in [
            "alert_id", "event", "severity", "status", "alert_key", "scope", "summary", "departments", "first_at", "last_at",
            "acked_by", "acked_at",
        ] {
            #expect(alert[member] != nil, "alerts.list lacks \(member)")
        }
        #expect(alert["departments"] == ["police", "education", "town:dongcheng"])
        await receiver.stop()
    }

    @Test func aBadRoutesFileIsRefusedAtStartWithItsLine() throws {
        let root = try TestDirectory("notify-bad-routes")
        defer { root.remove() }
        try root.write("access.json", NotifyFixture.accessFile)
        try root.write(
            "notify.json",
            #"{"listen": {"port": 0}, "tls": {"ca": "ca.pem", "certificate": "n.pem", "key": "n.key"}, "routes_file": "routes.json", "database": "n.sqlite"}"#
        )
        let cases: [(String, String)] = [
            (
                """
                {"routes": [
                  {"match": {"event": "safety.*"},
                   "to": ["police", "polise"]}],
                 "departments": {"police": {"channels": [{"type": "file", "path": "p.jsonl"}]}}}
                """,
                #"routes.json:3: routes[0].to[1]: unknown department "polise""#
            ),
            (
                """
                {"routes": [{"match": {}, "to": ["education"]}],
                 "departments": {
                   "education": {"channels": [
                     {"type": "webhook", "url": "ftp://x"}]}}}
                """,
                "routes.json:4: departments.education.channels[0].url: must start with http:// or https://"
            ),
            (
                """
                {"routes": [{"match": {"colour": "red"}, "to": ["education"]}],
                 "departments": {"education": {"channels": []}}}
                """,
                "routes.json:1: routes[0].match.colour:"
            ),
            (
                """
                {"routes": [{"match": {}, "to": ["education"]}],

                 "departments": {"education": {"channels": [{"type": "email", "to": "a@b.cn"}]}}}
                """,
                "routes.json:3: departments.education.channels[0]: e-mail channels need an \"smtp\" section"
            ),
            ("{\"routes\": [\n\n  {\"match\": {}, \"to\": [\"education\"]},,\n]}", "routes.json:3: not valid JSON"),
        ]
        for (routes, expected) in cases {
            try root.write("routes.json", routes)
            let result = try runTool("dudao-notify", ["--config", root.file("notify.json")])
            #expect(result.status == 78, "\(expected)")
            #expect(result.error.contains(expected), "expected \(expected) in:\n\(result.error)")
        }
    }

    @Test func theDefaultRoutesFileLoads() throws {
        // deploy/routes.json is what the demo runs: it must start.
        let routes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../deploy/routes.json"
        ).standardized.path
        let root = try TestDirectory("notify-default-routes")
        defer { root.remove() }
        let pki = try TestPKI(in: root)
        _ = pki
        try root.write("access.json", NotifyFixture.accessFile)
        try root.write(
            "notify.json",
            """
            {"listen": {"port": 0}, "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-notify.pem", "key": "certs/dudao-notify.key"},
             "routes_file": "\(routes)", "database": "n.sqlite"}
            """)
        let process = try ServiceProcess(
            executable: "dudao-notify", arguments: ["--config", root.file("notify.json")], logTo: root.file("n.log"))
        #expect(process.port > 0)
        process.stop()
    }

    @Test func theOperatorCLIListsAcksSilencesAndRedrives() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        receiver.failPaths(["/finance"])
        let notify = try NotifyFixture(
            routes: NotifyFixture.routes(receiver: receiver.url), environment: ["DUDAO_NOTIFY_DELIVERY_MAX_ATTEMPTS": "2"])
        defer { notify.stop() }
        _ = try await notify.send(
            [
                NotifyFixture.event(
                    "f1", type: "indicator.not_met", key: "indicator:finance.preschool_share:2025:city", scope: "city", town: nil,
                    institution: nil, indicator: "finance.preschool_share", summary: "学前教育财政投入占比 4.1%，未达到目标 5%")
            ], as: "dudao-indicators")
        let cli = ["--port", String(notify.port), "--certs", notify.pki.directory]
        let list = try runTool("dudao", ["alerts", "list"] + cli)
        #expect(list.status == 0, "\(list.error)")
        #expect(list.output.contains("学前教育财政投入占比 4.1%"))
        #expect(list.output.contains("finance,education"))
        let alertID = try #require(
            list.output.split(separator: "\n").dropFirst().first?.split(separator: "\t").first.map(String.init))
        let ack = try runTool("dudao", ["alerts", "ack", alertID, "--by", "财政局 李科长"] + cli)
        #expect(ack.status == 0, "\(ack.error)")
        #expect(ack.output.contains("acknowledged \(alertID) by 财政局 李科长"))
        let again = try runTool("dudao", ["alerts", "ack", alertID] + cli)
        #expect(again.output.contains("already acknowledged"))
        let missing = try runTool("dudao", ["alerts", "ack", "0000000000"] + cli)
        #expect(missing.status == 1)
        #expect(missing.error.contains("unknown_reference"))

        _ = try await notify.waitForStatus { $0["deliveries_dead"] == 1 }
        let failed = try runTool("dudao", ["alerts", "failed"] + cli)
        #expect(failed.output.contains("finance"), "\(failed.output)")
        #expect(failed.output.contains("HTTP 500"))
        receiver.failPaths([])
        let redrive = try runTool("dudao", ["alerts", "redrive", alertID] + cli)
        #expect(redrive.output.contains("redriven 1 delivery"), "\(redrive.output)\(redrive.error)")
        #expect(await receiver.wait { requests in requests.contains { $0.path == "/finance" && $0.status == 200 } })

        let silence = try runTool(
            "dudao",
            [
                "alerts", "silence", "add", "--match", "town=dongcheng", "--match", "event=safety.*", "--for", "2h", "--comment",
                "设备检修",
            ] + cli)
        #expect(silence.status == 0, "\(silence.error)")
        let silenceID = try #require(silence.output.split(separator: " ").dropFirst().first.map(String.init))
        let silences = try runTool("dudao", ["alerts", "silence", "list"] + cli)
        #expect(silences.output.contains(silenceID))
        #expect(silences.output.contains("设备检修"))
        let expired = try runTool("dudao", ["alerts", "silence", "expire", silenceID] + cli)
        #expect(expired.status == 0, "\(expired.error)")
        let after = try runTool("dudao", ["alerts", "silence", "list"] + cli)
        #expect(after.output.contains("0 silence(s)"))
        await receiver.stop()
    }
}
