import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// The WeCom group robot and the JSON Lines file channel.
@Suite(.serialized) struct NotifyChannelTests {
    static func routes(receiver: String, file: String) -> String {
        """
        {"routes": [{"match": {}, "to": ["education"], "group_wait_seconds": 0}],
         "departments": {"education": {"channels": [
           {"type": "wecom", "url": "\(receiver)/cgi-bin/webhook/send?key=robot-key"},
           {"type": "file", "path": "\(file)"}]}}}
        """
    }

    @Test func wecomGetsMarkdownAndItsErrcodeDecides() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        receiver.respond(with: #"{"errcode":93000,"errmsg":"invalid webhook url"}"#)
        let root = try TestDirectory("notify-file-channel")
        defer { root.remove() }
        let file = root.file("alerts/education.jsonl")
        let notify = try NotifyFixture(routes: Self.routes(receiver: receiver.url, file: file))
        defer { notify.stop() }
        _ = try await notify.send([NotifyDeliveryTests.indicatorEvent("ind-w1")], as: "dudao-indicators")
        // errcode != 0 is a failure although HTTP said 200: retried until the robot says 0.
        #expect(await receiver.wait { $0.count >= 2 })
        receiver.respond(with: #"{"errcode":0,"errmsg":"ok"}"#)
        let status = try await notify.waitForStatus { $0["deliveries_pending"] == 0 }
        #expect(status["deliveries_delivered"] == 2, "the robot and the file")
        let request = try #require(receiver.requests.last)
        #expect(request.path == "/cgi-bin/webhook/send?key=robot-key")
        let body = try JSONParser.parse(request.body)
        #expect(body["msgtype"] == "markdown")
        let content = body["markdown"]?["content"]?.stringValue ?? ""
        #expect(content.hasPrefix("**【督导告警·警告】指标未达标｜全市**\n> 摘要：全市幼儿园专任教师持证率 92.5%，未达到目标 100%"))
        #expect(content.contains("数值：92.5%，目标 ≥ 100%"))

        // The file channel: one JSON line per message, the same payload a webhook gets.
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let line = try JSONParser.parse(String(lines[0]))
        #expect(line["event"] == "indicator.not_met")
        #expect(line["department"] == "education")
        #expect(line["summary"] == "全市幼儿园专任教师持证率 92.5%，未达到目标 100%")
        await receiver.stop()
    }
}
