import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// `kill -9` while delivering a backlog: after the restart every alert is delivered, a
/// delivery whose 2xx had been recorded is never sent again, and one that was in flight at the
/// kill is sent again marked `X-Dudao-Redelivery: 1`.
@Suite(.serialized) struct NotifyCrashTests {
    @Test func killNineWhileDeliveringABacklog() async throws {
        let receiver = try await NotifyHTTPReceiver.start()
        // 400 POSTs of 200 ms each, 16 at a time; past a third the receiver holds its answers
        // until notify is dead, so the kill lands mid-way with deliveries in flight, however
        // slow or fast the machine (a loaded CI once saw all 400 delivered before the kill).
        receiver.delay(millis: 200)
        receiver.hold(after: 400 / 3)
        // A long webhook timeout: a POST answered 2xx after notify gave up is retried by design
        // (seen with the CPU oversubscribed), which is not what this test is about.
        let notify = try NotifyFixture(routes: NotifyFixture.routes(receiver: receiver.url, groupBy: ["alert_key"], webhookTimeout: 30))
        defer { notify.stop() }
        let total = 400
        let events = (0..<total).map { n in
            NotifyFixture.event(
                "crash-\(n)", type: "indicator.not_met", key: "indicator:crash.\(n):2025:city", scope: "city", town: nil,
                institution: nil,
                indicator: "crash.\(n)", summary: "指标 crash.\(n) 未达标")
        }
        let replies = try await notify.send(events, as: "dudao-indicators")
        #expect(replies.allSatisfy { $0["status"] == "accepted" }, "every event acknowledged: stored with its queue entries")
        // One delivery per alert (education only). Kill once a good part has arrived.
        #expect(await receiver.wait(seconds: 30) { $0.count >= total / 3 })
        let deliveredBeforeKill = Set(receiver.delivered.compactMap { $0.header("X-Dudao-Delivery") })
        try notify.killAndRestart(whileDown: { receiver.release() })
        #expect(deliveredBeforeKill.count < total, "the kill came too late to test anything")

        let status = try await notify.waitForStatus(seconds: 60) { $0["deliveries_pending"] == 0 }
        #expect(status["deliveries_pending"] == 0)
        #expect(status["deliveries_delivered"] == .int(Int64(total)))
        let delivered = receiver.delivered
        var perDelivery: [String: Int] = [:]
        var perAlert: [String: Int] = [:]
        for request in delivered {
            perDelivery[request.header("X-Dudao-Delivery") ?? "?", default: 0] += 1
            if let payload = try? JSONParser.parse(request.body), let key = payload["alert_key"]?.stringValue {
                perAlert[key, default: 0] += 1
            }
        }
        #expect(perAlert.count == total, "every alert delivered after the restart")
        // Only deliveries in flight at the kill (sent, 2xx not yet recorded) may arrive twice:
        // at most the dispatcher's concurrency (16 in the fixture).
        let twice = perDelivery.filter { $0.value > 1 }
        #expect(twice.count <= 16, "\(twice.count) deliveries arrived twice")
        #expect(perDelivery.values.allSatisfy { $0 <= 2 })
        // And each of those says so: the attempt was recorded as started before the kill but its
        // outcome was not, so the re-send repeats the attempt number and carries
        // X-Dudao-Redelivery for the receiver to check its ids. (Judged per delivery, not by
        // arrival order: the receiver may get to the dead process's last bytes after the new
        // process's re-send when the machine is loaded.)
        for (id, requests) in Dictionary(grouping: delivered, by: { $0.header("X-Dudao-Delivery") ?? "?" }) where requests.count > 1 {
            #expect(Set(requests.map { $0.header("X-Dudao-Attempt") ?? "?" }).count == 1, "\(id): an attempt after a 2xx was recorded as failed")
            let unmarked = requests.filter { $0.header("X-Dudao-Redelivery") == nil }.count
            #expect(unmarked <= 1, "\(id) was sent \(requests.count) times, \(unmarked) without X-Dudao-Redelivery")
        }
        let marked = delivered.filter { $0.header("X-Dudao-Redelivery") != nil }.count
        #expect(marked <= 16, "only deliveries in flight at the kill are marked: \(marked)")
        print(
            "notify crash test: \(deliveredBeforeKill.count) delivered before kill -9, \(total) after restart, \(twice.count) in flight at the kill re-sent"
        )
        // Re-sending every event after the restart is a duplicate: nothing is queued again.
        let again = try await notify.send(Array(events.prefix(50)), as: "dudao-indicators")
        #expect(again.allSatisfy { $0["status"] == "duplicate" })
        await receiver.stop()
    }
}
