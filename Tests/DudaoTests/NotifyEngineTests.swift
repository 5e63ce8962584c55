import DudaoCore
import DudaoStorage
import DudaoTesting
import Logging
import Testing

@testable import dudao_notify

/// The alerting state machine on a manual clock: group wait, group interval, repeat,
/// acknowledgement, resolved notices, silences, escalation, retries and dead letters — exact
/// to the millisecond, no sleeping.
@Suite struct NotifyEngineTests {
    /// The engine, its writer and a real SQLite file, driven by a manual clock (no dispatcher:
    /// the tests look at the delivery queue).
    final class Harness: Sendable {
        let directory: TestDirectory
        let clock = ManualClock()
        let engine: AlertEngine
        let writer: NotifyWriter

        init(
            routes: String, retry: RetryPolicy = RetryPolicy(maxAttempts: 3, initialSeconds: 1, maxSeconds: 10, jitter: 0),
            backend: StoreBackend = .sqlite
        ) throws {
            directory = try TestDirectory("notify-engine")
            let parsed = try RoutesFile.parse(Array(routes.utf8), name: "routes.json", directory: directory.path)
            let database = try NotifySchema.open(backend.location("notify", in: directory), logger: Logger(label: "test"))
            engine = AlertEngine(
                routes: parsed, retry: retry, dedupeWindowMillis: 7 * 86_400_000, historyMillis: 90 * 86_400_000,
                displayOffsetMinutes: 480)
            writer = NotifyWriter(database: database, engine: engine, clock: clock, maxBatch: 100, onDeliveries: {})
            writer.start()
        }

        deinit {
            writer.stop()
            directory.remove()
        }

        /// Applies an event frame (as `dudao-safety` would send it); returns `accepted`/`duplicate`.
        @discardableResult
        func send(_ frame: JSONValue, sender: String = "dudao-safety") async throws -> String {
            let event = try AlertEvent.parse(
                id: frame["id"]!.stringValue!, type: frame["type"]!.stringValue!, body: frame["body"]!.objectValue!
            ).get()
            let engine = self.engine
            let reply = try await writer.perform { db, now, effects in
                .string(
                    try engine.apply(event, sender: sender, db: db, now: now, effects: &effects) == .accepted
                        ? "accepted" : "duplicate")
            }
            return reply?.stringValue ?? ""
        }

        func advance(_ seconds: Double) async throws {
            clock.advance(seconds: seconds)
            try await tick()
        }

        func tick() async throws {
            let engine = self.engine
            _ = try await writer.perform { db, now, effects in
                try engine.tick(db: db, now: now, effects: &effects)
                return nil
            }
        }

        /// Deliveries due now: (delivery id, department, payload). They are then marked delivered.
        func takeDue() async throws -> [(id: String, department: String, payload: JSONValue)] {
            let engine = self.engine
            let due = try await writer.perform { db, now, _ in
                let due = try DueDelivery.fetch(db, now: now, limit: 10_000)
                for delivery in due { try engine.deliverySucceeded(delivery.deliveryID, db: db, now: now) }
                return .array(
                    due.map {
                        ["id": .string($0.deliveryID), "department": .string($0.department), "payload": .string($0.payload)]
                    })
            }
            return (due?.arrayValue ?? []).map {
                (
                    id: $0["id"]!.stringValue!, department: $0["department"]!.stringValue!,
                    payload: try! JSONParser.parse($0["payload"]!.stringValue!)
                )
            }
        }

        func query(
            _ run:
                @escaping @Sendable (AlertEngine, AlertEngine.Transaction, Timestamp, inout AlertEngine.Effects) throws ->
                AlertEngine.QueryResult
        )
            async throws -> JSONValue
        {
            let engine = self.engine
            return try await writer.perform { db, now, effects in try run(engine, db, now, &effects).get() } ?? .null
        }
    }

    static let routes = """
        {"defaults": {"group_by": ["event", "town"], "group_wait_seconds": 30, "group_interval_seconds": 300, "repeat_interval_seconds": 3600},
         "routes": [
           {"match": {"event": "safety.alarm"}, "to": ["police", "education", "town:*"], "group_by": ["alert_key"], "group_wait_seconds": 0},
           {"match": {"event": "safety.*"}, "to": ["police", "town:*"]},
           {"match": {}, "to": ["education"]}],
         "escalation": {"severity": "critical", "after_seconds": 900, "to": "leading_group"},
         "departments": {
           "police": {"channels": [{"type": "file", "path": "police.jsonl"}]},
           "education": {"channels": [{"type": "file", "path": "education.jsonl"}]},
           "leading_group": {"channels": [{"type": "file", "path": "leading.jsonl"}]},
           "town:*": {"channels": [{"type": "file", "path": "town-{town}.jsonl"}]}},
         "town_names": {"dongcheng": "东成镇"}}
        """

    static func offline(_ n: Int, town: String = "dongcheng", status: String = "firing", id: String? = nil) -> JSONValue {
        NotifyFixture.event(
            id ?? "off-\(n)-\(status)", key: "device:d\(n)", status: status, scope: "institution:kg-\(town)", town: town,
            institution: "kg-\(town)", device: "d\(n)", summary: "\(town) 设备 d\(n) \(status == "firing" ? "离线" : "恢复")")
    }

    @Test(arguments: StoreBackend.allCases) func groupWaitThenIntervalThenRepeatThenResolved(backend: StoreBackend) async throws {
        let h = try Harness(routes: Self.routes, backend: backend)
        #expect(try await h.send(Self.offline(1)) == "accepted")
        #expect(try await h.send(Self.offline(1)) == "duplicate")
        #expect(try await h.takeDue().isEmpty)
        try await h.advance(29.999)
        #expect(try await h.takeDue().isEmpty, "group_wait is 30 s")
        try await h.advance(0.001)
        let first = try await h.takeDue()
        #expect(Set(first.map(\.department)) == ["police", "town:dongcheng", "education"])
        #expect(first.allSatisfy { $0.payload["count"] == 1 && $0.payload["status"] == "firing" })

        // A second device of the same town 10 s later waits for the group interval (300 s after the first message).
        try await h.advance(10)
        try await h.send(Self.offline(2))
        try await h.advance(289.999)
        #expect(try await h.takeDue().isEmpty)
        try await h.advance(0.001)
        let second = try await h.takeDue()
        #expect(second.count == 3)
        #expect(second.allSatisfy { $0.payload["count"] == 2 })

        // Still firing an hour later: repeated.
        try await h.advance(3599)
        #expect(try await h.takeDue().isEmpty)
        try await h.advance(1)
        #expect(try await h.takeDue().count == 3, "repeat_interval is 3600 s")

        // Acknowledge d1, resolve d2: the next message is d2's resolved notice only; no more repeats.
        let alerts = try await h.query { engine, db, _, _ in try engine.listAlerts(["status": "firing"], db: db) }
        let d1 = alerts["alerts"]!.arrayValue!.first { $0["alert_key"] == "device:d1" }!["alert_id"]!.stringValue!
        let acked = try await h.query { engine, db, now, _ in
            try engine.ack(["alert_id": .string(d1), "by": "值班员"], identity: "operator", db: db, now: now)
        }
        #expect(acked["alert"]?["acked_by"] == "值班员")
        try await h.send(Self.offline(2, status: "resolved"))
        try await h.advance(299)
        #expect(try await h.takeDue().isEmpty)
        try await h.advance(1)
        let resolved = try await h.takeDue()
        #expect(resolved.count == 3)
        #expect(
            resolved.allSatisfy { $0.payload["status"] == "resolved" && $0.payload["resolved"] == 1 && $0.payload["firing"] == 0 }
        )
        #expect(resolved.first?.payload["summary"]?.stringValue?.hasPrefix("【已恢复】") == true)
        try await h.advance(7200)
        #expect(try await h.takeDue().isEmpty, "an acknowledged alert is not repeated")
    }

    /// SPEC section 5: a receiver filtering on `safety.device_online` sees the device come back;
    /// the same `alert_id`, `status: resolved`, and `first_event` names what fired.
    @Test(arguments: StoreBackend.allCases) func aResolvedMessageNamesTheResolvingEvent(backend: StoreBackend) async throws {
        let h = try Harness(routes: Self.routes, backend: backend)
        try await h.send(Self.offline(1))
        try await h.advance(30)
        let fired = try await h.takeDue()
        #expect(fired.first?.payload["event"] == "safety.device_offline")
        try await h.send(
            NotifyFixture.event(
                "on-1", type: "safety.device_online", severity: "info", key: "device:d1", status: "resolved",
                scope: "institution:kg-dongcheng", town: "dongcheng", institution: "kg-dongcheng", device: "d1",
                summary: "dongcheng 设备 d1 恢复"))
        try await h.advance(300)
        let back = try await h.takeDue()
        #expect(!back.isEmpty)
        for message in back {
            #expect(message.payload["event"] == "safety.device_online")
            #expect(message.payload["first_event"] == "safety.device_offline")
            #expect(message.payload["status"] == "resolved")
            #expect(message.payload["alert_id"] == fired.first?.payload["alert_id"])
            #expect(message.payload["message"]?.stringValue?.contains("设备恢复在线") == true)
        }
        let listed = try await h.query { engine, db, _, _ in try engine.listAlerts(["status": "resolved"], db: db) }
        #expect(listed["alerts"]?.arrayValue?.first?["resolved_event"] == "safety.device_online")
    }

    @Test(arguments: StoreBackend.allCases) func flappingWithinGroupWaitIsNeverSent(backend: StoreBackend) async throws {
        let h = try Harness(routes: Self.routes, backend: backend)
        try await h.send(Self.offline(1))
        try await h.advance(10)
        try await h.send(Self.offline(1, status: "resolved"))
        try await h.advance(60)
        #expect(try await h.takeDue().isEmpty)
    }

    @Test(arguments: StoreBackend.allCases) func unacknowledgedCriticalEscalatesAfterTheConfiguredTime(backend: StoreBackend) async throws {
        let h = try Harness(routes: Self.routes, backend: backend)
        func alarm(_ device: String) -> JSONValue {
            NotifyFixture.event(
                "alarm-\(device)", type: "safety.alarm", severity: "critical", key: "alarm:\(device):1", device: device,
                summary: "【一键报警】东成镇 东成镇中心幼儿园 设备 \(device) 报警",
                details: ["institution_name": "东成镇中心幼儿园", "town_name": "东成镇"])
        }
        try await h.send(alarm("a1"))
        try await h.send(alarm("a2"))
        try await h.send(alarm("a3"))
        let first = try await h.takeDue()
        #expect(first.count == 9, "alarms go out at once, one message each to police, education and the town")
        // a3 turns out to be the live test agreed with 110: silenced after its first message, it does not escalate.
        _ = try await h.query { engine, db, now, _ in
            try engine.addSilence(["matchers": ["device": "a3"], "duration_seconds": 7200], identity: "operator", db: db, now: now)
        }
        let a2 = first.first { $0.payload["device_id"] == "a2" }!.payload["alert_id"]!.stringValue!
        _ = try await h.query { engine, db, now, _ in
            try engine.ack(["alert_id": .string(a2)], identity: "operator", db: db, now: now)
        }
        try await h.advance(899.999)
        #expect(try await h.takeDue().isEmpty)
        try await h.advance(0.001)
        let escalated = try await h.takeDue()
        #expect(escalated.count == 1)
        #expect(escalated.first?.department == "leading_group")
        #expect(escalated.first?.payload["kind"] == "escalation")
        #expect(escalated.first?.payload["device_id"] == "a1", "the acknowledged alarm does not escalate")
        #expect(escalated.first?.payload["summary"]?.stringValue?.contains("15 分钟未确认") == true)
        #expect(escalated.first?.payload["message"]?.stringValue?.contains("东成镇中心幼儿园（东成镇）") == true)
        try await h.advance(3600)
        let later = try await h.takeDue()
        #expect(later.allSatisfy { $0.department != "leading_group" }, "an alert escalates once")
    }

    @Test(arguments: StoreBackend.allCases) func silenceSuppressesUntilItEndsThenTheStillFiringAlertIsSent(backend: StoreBackend) async throws {
        let h = try Harness(routes: Self.routes, backend: backend)
        let silence = try await h.query { engine, db, now, _ in
            try engine.addSilence(
                ["matchers": ["town": "dongcheng", "event": "safety.*"], "duration_seconds": 120, "comment": "110 联调测试"],
                identity: "operator", db: db, now: now)
        }
        #expect(silence["silence"]?["active"] == true)
        try await h.send(Self.offline(1))
        try await h.send(Self.offline(2, town: "encheng"))
        try await h.advance(30)
        let during = try await h.takeDue()
        #expect(Set(during.map(\.department)) == ["police", "town:encheng", "education"], "only the other town is told")
        let listed = try await h.query { engine, db, _, _ in try engine.listAlerts([:], db: db) }
        let silenced = listed["alerts"]!.arrayValue!.first { $0["alert_key"] == "device:d1" }!
        #expect(silenced["silenced_by"] == silence["silence"]?["silence_id"])
        try await h.advance(89.999)
        #expect(try await h.takeDue().isEmpty)
        try await h.advance(0.001)
        let after = try await h.takeDue()
        #expect(
            Set(after.map(\.department)) == ["police", "town:dongcheng", "education"], "the silence ended: dongcheng is told now")
    }

    @Test(arguments: StoreBackend.allCases) func failedDeliveriesBackOffThenDieAndCanBeRedriven(backend: StoreBackend) async throws {
        let h = try Harness(routes: Self.routes, backend: backend)
        try await h.send(
            NotifyFixture.event(
                "ind-1", type: "indicator.not_met", key: "indicator:x", town: nil, institution: nil, indicator: "preschool.x"))
        try await h.advance(30)
        let engine = h.engine
        func due() async throws -> [String] {
            try await h.writer.perform { db, now, _ in
                .array(try DueDelivery.fetch(db, now: now, limit: 10).map { .string($0.deliveryID) })
            }?
            .arrayValue?.compactMap(\.stringValue) ?? []
        }
        func fail(_ id: String) async throws {
            _ = try await h.writer.perform { db, now, _ in
                try engine.deliveryFailed(id, error: "HTTP 500", permanent: false, inDoubt: false, db: db, now: now)
                return nil
            }
        }
        let ids = try await due()
        #expect(ids.count == 1)
        try await fail(ids[0])
        #expect(try await due().isEmpty, "waits 1 s before the second attempt")
        h.clock.advance(seconds: 1)
        #expect(try await due() == ids)
        try await fail(ids[0])
        h.clock.advance(seconds: 1.999)
        #expect(try await due().isEmpty, "then 2 s")
        h.clock.advance(seconds: 0.001)
        try await fail(ids[0])
        h.clock.advance(seconds: 3600)
        #expect(try await due().isEmpty, "three attempts: dead")
        let failed = try await h.query { engine, db, _, _ in try engine.failed([:], db: db) }
        #expect(failed["deliveries"]?.arrayValue?.count == 1)
        #expect(failed["deliveries"]?[0]?["attempts"] == 3)
        #expect(failed["deliveries"]?[0]?["last_error"] == "HTTP 500")
        let redriven = try await h.query { engine, db, now, effects in
            try engine.redrive([:], db: db, now: now, effects: &effects)
        }
        #expect(redriven["redriven"] == 1)
        #expect(try await due() == ids)
    }

    @Test func backoffDoublesUpToTheCapWithBoundedJitter() {
        let policy = RetryPolicy(maxAttempts: 10, initialSeconds: 2, maxSeconds: 60, jitter: 0.2)
        #expect(policy.delay(afterAttempts: 1, random: 0) == 2)
        #expect(policy.delay(afterAttempts: 2, random: 0) == 4)
        #expect(policy.delay(afterAttempts: 5, random: 0) == 32)
        #expect(policy.delay(afterAttempts: 9, random: 0) == 60)
        #expect(policy.delay(afterAttempts: 3, random: 1) == 9.6)
        #expect(policy.delay(afterAttempts: 3, random: -1) == 6.4)
    }
}

extension JSONValue {
    /// Array element access for tests.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let array) = self, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
