import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// Delivery end to end: the real `dudao-notify` over mutual TLS, a real HTTP receiver on loopback.
@Suite(.serialized) struct NotifyDeliveryTests {
    static func indicatorEvent(_ id: String, key: String = "indicator:preschool.certified_teacher_rate:2025:city") -> JSONValue {
        NotifyFixture.event(
            id, type: "indicator.not_met", severity: "warning", key: key, scope: "city", town: nil, institution: nil,
            indicator: "preschool.certified_teacher_rate", summary: "全市幼儿园专任教师持证率 92.5%，未达到目标 100%",
            details: ["value": 92.5, "unit": "%", "op": ">=", "target": 100, "clause": "三(一)2(5)", "year": 2025],
            at: "2026-11-29T09:00:00+08:00")
    }

    @Test func webhookIsSignedAndCarriesTheSpecPayload() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url, secret: "s3cret-公安"))
        defer { notify.stop() }
        let replies = try await notify.send([Self.indicatorEvent("ind-1")], as: "dudao-indicators")
        #expect(replies == [Reply.ack(id: "ind-1", status: .accepted)])
        #expect(await receiver.wait { $0.count == 1 })
        let request = try #require(receiver.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/education")
        #expect(request.header("Content-Type") == "application/json; charset=utf-8")
        #expect(request.hasValidSignature(secret: "s3cret-公安"))
        #expect(!request.hasValidSignature(secret: "wrong"))
        let payload = try JSONParser.parse(request.body)
        for member in ["alert_id", "event", "severity", "department", "scope", "summary", "details"] {
            #expect(payload[member] != nil, "payload lacks \(member)")
        }
        #expect(payload["event"] == "indicator.not_met")
        #expect(payload["severity"] == "warning")
        #expect(payload["department"] == "education")
        #expect(payload["department_name"] == "市教育局")
        #expect(payload["scope"] == "city")
        #expect(payload["summary"] == "全市幼儿园专任教师持证率 92.5%，未达到目标 100%")
        #expect(payload["details"]?["clause"] == "三(一)2(5)")
        let message = payload["message"]?.stringValue ?? ""
        #expect(message.contains("数值：92.5%，目标 ≥ 100%"))
        #expect(message.contains("开始：2026-11-29 09:00:00（UTC+8）"))
        #expect(message.contains("条款：三(一)2(5)"))
        #expect(request.header("X-Dudao-Delivery") != nil)
        await receiver.stop()
    }

    @Test func receiverFailingThreeTimesGetsTheAlertExactlyOnceAfterRetries() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        receiver.failNext(3)
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url))
        defer { notify.stop() }
        _ = try await notify.send([Self.indicatorEvent("ind-2")], as: "dudao-indicators")
        #expect(await receiver.wait { $0.count == 4 })
        try await Task.sleep(for: .milliseconds(800))
        let requests = receiver.requests
        #expect(requests.count == 4, "3 failures, 1 success, then nothing more")
        #expect(requests.map(\.status) == [500, 500, 500, 200])
        #expect(Set(requests.map { $0.header("X-Dudao-Delivery") ?? "" }).count == 1, "one delivery, retried")
        #expect(Set(requests.map(\.text)).count == 1, "the same body (and signature) every time")
        #expect(requests.map { $0.header("X-Dudao-Attempt") ?? "" } == ["1", "2", "3", "4"])
        #expect(receiver.delivered.count == 1)
        // Backoff: every retry waited at least the configured initial 0.05 s (minus jitter).
        for (a, b) in zip(requests, requests.dropFirst()) { #expect(b.receivedAt.timeIntervalSince(a.receivedAt) >= 0.04) }
        let status = try await notify.waitForStatus { $0["deliveries_pending"] == 0 }
        #expect(status["deliveries_delivered"] == 1)
        #expect(status["deliveries_dead"] == 0)
        await receiver.stop()
    }

    /// A 2xx with a long answer (a receiver that echoes a page) is delivered: only the first
    /// 64 KiB are read, and the rest is not an error that would send it again.
    @Test func aLong2xxAnswerIsDeliveredOnce() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        receiver.respond(with: String(repeating: "好", count: 100_000))
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url))
        defer { notify.stop() }
        _ = try await notify.send([Self.indicatorEvent("ind-long")], as: "dudao-indicators")
        let status = try await notify.waitForStatus { $0["deliveries_delivered"] == 1 }
        #expect(status["deliveries_delivered"] == 1)
        try await Task.sleep(for: .milliseconds(500))
        #expect(receiver.requests.count == 1, "not sent again: \(receiver.requests.map(\.status))")
        await receiver.stop()
    }

    /// A receiver that sends its 2xx head and then stalls in the body has the alert: delivered
    /// once, and the sender is not held (the channel timeout ends at the head).
    @Test func a2xxHeadFollowedByAStalledBodyIsDelivered() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        receiver.stallAfterHead(true)
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url))
        defer { notify.stop() }
        _ = try await notify.send([Self.indicatorEvent("ind-stall")], as: "dudao-indicators")
        let status = try await notify.waitForStatus { $0["deliveries_delivered"] == 1 }
        #expect(status["deliveries_delivered"] == 1)
        #expect(receiver.requests.count == 1)
        await receiver.stop()
    }

    @Test func receiverThatNeverSucceedsLandsInTheDeadLettersAndCanBeRedriven() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        receiver.failAlways(true, status: 503)
        let notify = try NotifyFixture(
            routes: NotifyFixture.routes(receiver: receiver.url), environment: ["DUDAO_NOTIFY_DELIVERY_MAX_ATTEMPTS": "3"])
        defer { notify.stop() }
        _ = try await notify.send([Self.indicatorEvent("ind-3")], as: "dudao-indicators")
        let status = try await notify.waitForStatus { $0["deliveries_dead"] == 1 }
        #expect(status["deliveries_dead"] == 1)
        #expect(receiver.requests.count == 3)
        let failed = try await notify.query("alerts.failed")
        let dead = try #require(failed["body"]?["deliveries"]?.arrayValue?.first)
        #expect(dead["attempts"] == 3)
        #expect(dead["department"] == "education")
        #expect(dead["last_error"]?.stringValue?.hasPrefix("HTTP 503") == true)
        let alertID = try #require(dead["alert_ids"]?.arrayValue?.first?.stringValue)

        // Fixed receiver, re-drive that alert's dead letters: delivered once.
        receiver.failAlways(false)
        let redrive = try await notify.query("alerts.redrive", ["alert_id": .string(alertID)])
        #expect(redrive["body"]?["redriven"] == 1)
        #expect(await receiver.wait { $0.count == 4 })
        let after = try await notify.waitForStatus { $0["deliveries_dead"] == 0 && $0["deliveries_pending"] == 0 }
        #expect(after["deliveries_delivered"] == 1)
        #expect(receiver.delivered.count == 1)
        await receiver.stop()
    }

    @Test func aClientErrorIsNotRetried() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        receiver.failAlways(true, status: 404)
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url))
        defer { notify.stop() }
        _ = try await notify.send([Self.indicatorEvent("ind-4")], as: "dudao-indicators")
        let status = try await notify.waitForStatus { $0["deliveries_dead"] == 1 }
        #expect(status["deliveries_dead"] == 1)
        #expect(receiver.requests.count == 1, "404 means the URL is wrong: dead at once, for a person to fix and re-drive")
        await receiver.stop()
    }
}
