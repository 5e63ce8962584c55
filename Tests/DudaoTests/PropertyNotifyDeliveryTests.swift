import DudaoCore
import DudaoStorage
import DudaoTesting
import Foundation
import Logging
import PropertyBased
import Testing

@testable import dudao_notify

/// Property: the delivery queue never sends a delivery again once its 2xx is recorded; only
/// the deliveries in flight at a crash (the at-least-once window the README documents) or
/// answered after the channel's timeout can be sent again, marked `X-Dudao-Redelivery: 1`;
/// and every alert is delivered.
///
/// The real `DeliveryDispatcher` with its `ChannelSenders` (webhooks over HTTP to a
/// `NotifyHTTPReceiver` on loopback), `NotifyWriter` and `AlertEngine` on a SQLite file, the
/// retry timers on a manual clock. A random sequence of phases: the receiver answers 2xx, fails
/// some or all requests with 5xx, or times out (answers 5xx or 2xx after the channel's timeout); the
/// engine restarts gracefully, or crashes — the writer and dispatcher stop at once, whatever is
/// in flight (the receiver answers those 2xx slowly, so there is something in flight), and a
/// new engine opens the same file; more alerts arrive. Each phase runs until nothing due is left
/// (every attempt's outcome committed). Then the receiver is healthy until the queue is empty.
///
/// Every attempt's outcome is committed (`attempts` + 1) unless the engine crashed while it was
/// in flight. An attempt can fail without its request reaching the receiver (its deadline ran
/// out while a connection was being opened: seen on a loaded CI machine), so the requests the
/// receiver got are bounded by the attempts the file holds:
///
/// - a crash loses the outcome of at most one attempt per delivery and of at most
///   `concurrency` attempts in all, and only of deliveries it leaves pending;
/// - apart from those, requests ≤ attempts for every delivery: nothing was sent that the queue
///   did not take as an attempt — in particular nothing after its `delivered` committed
///   (whose outcome the queue would ignore); and a delivery seen `delivered` gets no later request;
/// - a request without the mark was never answered 2xx before: once the receiver has answered
///   a delivery 2xx (too late, or to a process that crashed) or a crash lost an outcome, every
///   later request for it is marked, whatever came between (a 5xx to the first re-send, say);
/// - at the end every delivery is `delivered` (none dead) and every alert reached every
///   department it is routed to with a 2xx.
@Suite(.serialized, .shrinking(false)) struct PropertyNotifyDeliveryTests {
    static let iterations = 15
    static let concurrency = 4
    static let timeoutSeconds = 0.3
    static let departments = ["education", "police"]

    struct Phase: Sendable, CustomStringConvertible {
        /// 0 2xx, 1 the next `param` requests 5xx, 2 all 5xx, 3 timeouts (answered 5xx, or 2xx
        /// when `param` is odd), 4 crash with `param` requests in flight, 5 graceful restart,
        /// 6 `param` + 1 more alerts.
        var kind: Int
        var param: Int

        var description: String {
            switch kind {
            case 0: "2xx"
            case 1: "5xx×\(param)"
            case 2: "5xx"
            case 3: param % 2 == 1 ? "timeout(late 2xx)" : "timeout"
            case 4: "crash(\(param) in flight)"
            case 5: "restart"
            default: "+\(param + 1) alerts"
            }
        }
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var alerts: Int
        var phases: [Phase]
        var testDescription: String { "\(alerts) alerts, then \(phases)" }
    }

    static var scenarios: Generator<Scenario, some Sequence & SendableMetatype> {
        let phase = zip(Gen.int(in: 0...6), Gen.int(in: 0...4)).map { Phase(kind: $0.0, param: $0.1) }
        return zip(Gen.int(in: 1...4), phase.array(of: 1...7)).map { Scenario(alerts: $0.0, phases: $0.1) }
    }

    static func routes(_ receiver: String) -> String {
        func webhook(_ path: String) -> String {
            #"{"channels": [{"type": "webhook", "url": "\#(receiver)/\#(path)", "timeout_seconds": \#(timeoutSeconds)}]}"#
        }
        return """
            {"defaults": {"group_by": ["alert_key"], "group_wait_seconds": 0, "group_interval_seconds": 1, "repeat_interval_seconds": 86400},
             "routes": [{"match": {}, "to": ["education", "police"]}],
             "departments": {"education": \(webhook("education")), "police": \(webhook("police"))}}
            """
    }

    /// One life of the service: writer, dispatcher and their SQLite file.
    final class Process: Sendable {
        let engine: AlertEngine
        let writer: NotifyWriter
        let channels: ChannelSenders
        let dispatcher: DeliveryDispatcher
        let doorbell: Doorbell
        let running: Task<Void, Never>?

        /// - Parameter dispatching: whether the dispatcher runs (`false`: only look at the file).
        init(path: String, routes: Routes, clock: ManualClock, logger: Logger, dispatching: Bool = true) throws {
            let database = try NotifySchema.open(path: path)
            engine = AlertEngine(
                routes: routes, retry: RetryPolicy(maxAttempts: 1000, initialSeconds: 1, maxSeconds: 4, jitter: 0.2),
                dedupeWindowMillis: 7 * 86_400_000, historyMillis: 90 * 86_400_000, displayOffsetMinutes: 480)
            let doorbell = Doorbell()
            self.doorbell = doorbell
            writer = NotifyWriter(database: database, engine: engine, clock: clock, maxBatch: 100, logger: logger, onDeliveries: { doorbell.ring() })
            writer.start()
            channels = try ChannelSenders(routes: routes, concurrency: PropertyNotifyDeliveryTests.concurrency, time: LocalTime(offsetMinutes: 480))
            dispatcher = DeliveryDispatcher(
                database: database, writer: writer, engine: engine, channels: channels, clock: clock,
                concurrency: PropertyNotifyDeliveryTests.concurrency, doorbell: doorbell, logger: logger)
            let dispatcher = self.dispatcher
            running = dispatching ? Task { await dispatcher.dispatch() } : nil
        }

        /// Like `kill -9` for what is durable: the writer stops at once (outcomes of deliveries
        /// still in flight are never committed), the dispatcher takes nothing more.
        func crash() async {
            dispatcher.stop()
            writer.stop()
            await running?.value
            await channels.shutdown()
        }

        /// SIGTERM: deliveries in flight finish and their outcomes commit, then the writer stops.
        func stop() async {
            dispatcher.stop()
            await running?.value
            writer.stop()
            await channels.shutdown()
        }

        /// `delivery_id` → (status, attempts), as committed.
        func statuses() async throws -> [String: (status: String, attempts: Int)] {
            let rows = try await writer.perform { db, _, _ in
                .array(try db.strings("SELECT delivery_id || ' ' || status || ' ' || attempts FROM deliveries").map(JSONValue.string))
            }
            var result: [String: (status: String, attempts: Int)] = [:]
            for row in rows?.arrayValue ?? [] {
                let parts = (row.stringValue ?? "").split(separator: " ")
                result[String(parts[0])] = (String(parts[1]), Int(parts[2]) ?? -1)
            }
            return result
        }

        /// Deliveries due now (pending, with no committed outcome of their latest attempt).
        func dueCount() async throws -> Int {
            try await writer.perform { db, now, _ in .int(Int64(try DueDelivery.fetch(db, now: now, limit: 10_000).count)) }?.intValue
                .map(Int.init) ?? -1
        }

        func send(alert n: Int) async throws {
            let frame = NotifyFixture.event("e\(n)", key: "device:d\(n)", device: "d\(n)", summary: "设备 d\(n) 离线")
            let event = try AlertEvent.parse(id: "e\(n)", type: frame["type"]!.stringValue!, body: frame["body"]!.objectValue!).get()
            let engine = self.engine
            let reply = try await writer.perform { db, now, effects in
                .string(try engine.apply(event, sender: "dudao-safety", db: db, now: now, effects: &effects) == .accepted ? "accepted" : "duplicate")
            }
            #expect(reply == "accepted")
        }
    }

    @Test func aDeliveryAnswered2xxIsNotSentAgainExceptInFlightAtACrash() async throws {
        var quiet = Logger(label: "property-notify")
        quiet.logLevel = .critical
        let logger = quiet
        await propertyCheck(count: Self.iterations, input: Self.scenarios) { scenario in
            try await Self.run(scenario, logger: logger)
        }
    }

    static func run(_ scenario: Scenario, logger: Logger) async throws {
        let directory = try TestDirectory("property-notify")
        defer { directory.remove() }
        let receiver = try await NotifyHTTPReceiver.start()
        let routes = try RoutesFile.parse(Array(Self.routes(receiver.url).utf8), name: "routes.json", directory: directory.path)
        let clock = ManualClock()
        let path = directory.file("notify.sqlite")
        var process = try Process(path: path, routes: routes, clock: clock, logger: logger)
        var alerts = 0
        for _ in 0..<scenario.alerts {
            try await process.send(alert: alerts)
            alerts += 1
        }
        var history: [String] = []
        /// Per delivery: attempts whose outcome a crash lost.
        var lost: [String: Int] = [:]
        /// (requests so far, deliveries then seen delivered): none of those may be requested later.
        var samples: [(count: Int, delivered: Set<String>)] = []
        /// (requests so far, a delivery whose outcome a crash lost): every later request for it
        /// must be marked `X-Dudao-Redelivery: 1`.
        var inDoubt: [(count: Int, delivery: String)] = []

        func requestsPerDelivery() -> [String: Int] {
            var counts: [String: Int] = [:]
            for request in receiver.requests { counts[request.header("X-Dudao-Delivery") ?? "?", default: 0] += 1 }
            return counts
        }

        func sample(_ statuses: [String: (status: String, attempts: Int)]) {
            samples.append((receiver.requests.count, Set(statuses.filter { $0.value.status == "delivered" }.keys)))
        }

        /// Lets the dispatcher work until every due delivery has a committed outcome.
        func settle(_ what: String, until stop: (() -> Bool)? = nil) async throws {
            clock.advance(seconds: 10)  // every retry is due (backoff at most 4 s + 20 %)
            process.doorbell.ring()
            // 60 s: with the full suite loading both cores (1 000 TLS connections next door), a
            // round of 0.3 s webhooks once took longer than 20 s to commit in CI.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let stop, stop() { return }
                if try await process.dueCount() == 0 {
                    sample(try await process.statuses())
                    return
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            Issue.record("\(what): deliveries still due after 60 s; \(history)")
        }

        func restart(crash: Bool) async throws {
            if crash { await process.crash() } else { await process.stop() }
            // What the file holds now, read before anything could be sent again.
            let look = try Process(path: path, routes: routes, clock: clock, logger: logger, dispatching: false)
            let statuses = try await look.statuses()
            await look.stop()
            sample(statuses)
            var lostNow: [String] = []
            for (delivery, requests) in requestsPerDelivery() {
                // Negative: attempts that failed before their request reached the receiver.
                let unaccounted = requests - (statuses[delivery]?.attempts ?? 0) - lost[delivery, default: 0]
                guard unaccounted > 0 else { continue }
                if !crash || unaccounted != 1 || statuses[delivery]?.status != "pending" {
                    let recorded = "\(statuses[delivery]?.attempts ?? 0) attempts recorded (\(statuses[delivery]?.status ?? "-"))"
                    Issue.record(
                        "after a \(crash ? "crash" : "graceful stop"): \(delivery) had \(requests) requests, \(recorded), \(lost[delivery, default: 0]) lost before; \(history)")
                }
                lost[delivery, default: 0] += unaccounted
                lostNow.append(delivery)
                inDoubt.append((receiver.requests.count, delivery))
            }
            #expect(lostNow.count <= concurrency, "a crash lost \(lostNow.count) outcomes, more than can be in flight: \(lostNow)")
            process = try Process(path: path, routes: routes, clock: clock, logger: logger)
        }

        func behave(fail: Int = 0, failAll: Bool = false, delayMillis: Int64 = 0) {
            receiver.failAlways(failAll, status: 503)
            receiver.failNext(fail, status: 500)
            receiver.delay(millis: delayMillis)
        }

        for phase in scenario.phases {
            history.append(phase.description)
            switch phase.kind {
            case 0:
                behave()
                try await settle("2xx")
            case 1:
                behave(fail: phase.param)
                try await settle("5xx×\(phase.param)")
            case 2:
                behave(failAll: true)
                try await settle("5xx")
            case 3:
                // Answered only after the client gave up: a timeout either way, but after a late
                // 2xx the receiver has it.
                behave(failAll: phase.param % 2 == 0, delayMillis: Int64(timeoutSeconds * 1000) + 200)
                try await settle(phase.description)
            case 4:
                behave(delayMillis: 40)
                let before = receiver.requests.count
                try await settle("crash", until: { receiver.requests.count >= before + phase.param })
                try await restart(crash: true)
            case 5:
                try await restart(crash: false)
            default:
                for _ in 0...phase.param {
                    try await process.send(alert: alerts)
                    alerts += 1
                }
            }
        }
        // Healthy until everything is delivered (deliveries in flight when a phase ended may
        // have been scheduled past its clock: a few rounds).
        history.append("heal")
        behave()
        var final = try await process.statuses()
        for _ in 0..<5 where final.values.contains(where: { $0.status != "delivered" }) {
            try await settle("heal")
            final = try await process.statuses()
        }
        await process.stop()
        let requests = receiver.requests
        await receiver.stop()

        #expect(final.count == alerts * departments.count, "one delivery per alert and department: \(final.count) for \(alerts) alerts")
        let notDelivered = final.filter { $0.value.status != "delivered" }.mapValues(\.status)
        #expect(notDelivered.isEmpty, "not delivered at the end: \(notDelivered); \(history)")
        var counts: [String: Int] = [:]
        for request in requests { counts[request.header("X-Dudao-Delivery") ?? "?", default: 0] += 1 }
        for (delivery, count) in counts.sorted(by: { $0.key < $1.key }) {
            let attempts = final[delivery]?.attempts ?? 0
            #expect(
                count <= attempts + lost[delivery, default: 0],
                "\(delivery): \(count) requests, \(attempts) attempts recorded, \(lost[delivery, default: 0]) lost in crashes; \(history)")
        }
        for (index, request) in requests.enumerated() {
            let delivery = request.header("X-Dudao-Delivery") ?? "?"
            if samples.contains(where: { $0.count <= index && $0.delivered.contains(delivery) }) {
                Issue.record("\(delivery) was sent again (request \(index)) after it was seen delivered; \(history)")
            }
        }
        for (count, delivery) in inDoubt {
            for (index, later) in requests.enumerated().dropFirst(count) where later.header("X-Dudao-Delivery") == delivery {
                #expect(
                    later.header("X-Dudao-Redelivery") == "1",
                    "\(delivery) was sent again (request \(index)) after a crash lost an outcome, without the mark; \(history)")
            }
        }
        var answered2xx = Set<String>()
        for (index, request) in requests.enumerated() {
            let delivery = request.header("X-Dudao-Delivery") ?? "?"
            if answered2xx.contains(delivery) {
                // Every request of this delivery (status, attempt number, mark) and what the file
                // holds at the end: tells a double send of one attempt from an outcome misjudged.
                let trail = requests.enumerated().filter { $0.element.header("X-Dudao-Delivery") == delivery }.map {
                    "#\($0.offset) \($0.element.status) attempt \($0.element.header("X-Dudao-Attempt") ?? "?")"
                        + ($0.element.header("X-Dudao-Redelivery") == "1" ? " marked" : "")
                }
                #expect(
                    request.header("X-Dudao-Redelivery") == "1",
                    "\(delivery) was answered 2xx before and sent again (request \(index)) without the mark; \(history); requests: \(trail); at the end: \(final[delivery].map { "\($0.status), \($0.attempts) attempts" } ?? "-")")
            }
            if (200..<300).contains(request.status) { answered2xx.insert(delivery) }
        }
        // Every alert reached every department with a 2xx.
        for department in departments {
            var told: Set<String> = []
            for request in requests where (200..<300).contains(request.status) && request.path == "/\(department)" {
                let payload = try JSONParser.parse(request.body)
                for id in payload["alert_ids"]?.arrayValue ?? [] { told.insert(id.stringValue ?? "") }
            }
            #expect(told.count == alerts, "\(department) was told of \(told.count) of \(alerts) alerts")
        }
    }
}
