import DudaoCore
import DudaoTesting
import PropertyBased
import Testing

@testable import dudao_safety

/// Property: device liveness raises one offline event per silence, an online event only after
/// a firing one, and nothing while heartbeats keep coming.
///
/// Random heartbeat schedules for two devices — ok, fault, silences short and long, a record
/// delivered twice — drive the real `SafetyEngine` (its SQLite file in a temp folder) on a
/// manual clock, with the liveness check run every 10 s of clock time (as `check_interval`
/// does) and restarts at random points: graceful (last_seen flushed) or as after `kill -9`
/// (the engine is reopened from what its file holds). After every step the events the engine
/// queued in its outbox are compared with the rules of `Liveness`:
///
/// - `offline` only after `offline_after` without a heartbeat (counted from the restart at the
///   earliest), once per silence: never twice without an `online` between;
/// - `online` only while a `fault` or `offline` is firing, after `hold_down` of health;
/// - `fault` only on a fault heartbeat when nothing fires;
/// - each of these is raised when due (at the first check or heartbeat that sees it), and the
///   check's report counts exactly what reached the outbox (no event swallowed by its id).
@Suite struct PropertyLivenessTests {
    static let iterations = 25
    static let settings = LivenessSettings(offlineAfterMillis: 180_000, holdDownMillis: 60_000)
    static let checkIntervalMillis: Int64 = 10_000
    static let devices = ["dev-0", "dev-1"]

    /// One step of a schedule: time passes (checked every 10 s), maybe a restart, then what
    /// each device sends.
    struct Step: Sendable, CustomStringConvertible {
        /// Seconds that pass.
        var seconds: Int
        /// 0: graceful restart, 1: restart after kill -9, else none.
        var restart: Int
        /// Per device: 0–2 heartbeat ok, 3 heartbeat fault, 4 nothing, 5 ok delivered twice.
        var sends: [Int]

        var description: String {
            let restartText = restart == 0 ? " restart" : restart == 1 ? " kill-9" : ""
            let sendsText = sends.map { ["ok", "ok", "ok", "fault", "-", "ok×2"][$0] }.joined(separator: ",")
            return "+\(seconds)s\(restartText) [\(sendsText)]"
        }
    }

    struct Schedule: Sendable, CustomTestStringConvertible {
        var steps: [Step]
        var testDescription: String { steps.map(\.description).joined(separator: " ") }
    }

    static var schedules: Generator<Schedule, some Sequence & SendableMetatype> {
        let step = zip(Gen.int(in: 0...60), Gen.int(in: 0...7), Gen.int(in: 0...9), Gen.int(in: 0...5).array(of: 2))
            .map { Step(seconds: $0.0 + ($0.1 == 0 ? 200 : 0), restart: $0.2, sends: $0.3) }
        return step.array(of: 1...50).map { Schedule(steps: $0) }
    }

    /// What the rules say a device is, kept by the test.
    struct Model {
        var state: DeviceState
        var alerting: DeviceProblem
        var since: Int64
        var lastReceived: Int64
    }

    struct Event: Equatable, CustomStringConvertible {
        var device: String
        var kind: String  // offline, fault, online
        var description: String { "\(kind) \(device)" }
    }

    static let t0: Int64 = 1_795_910_400_000

    /// The device events among outbox frames (`safety.device_offline|fault|online`; the
    /// institution-wide `safety.institution_offline` is not this property's concern).
    static func deviceEvents(_ frames: some Sequence<JSONValue>) -> [Event] {
        frames.compactMap { frame in
            let type = frame["type"]?.stringValue ?? ""
            guard type.hasPrefix("safety.device_") else { return nil }
            return Event(device: frame["body"]?["device_id"]?.stringValue ?? "", kind: String(type.dropFirst("safety.device_".count)))
        }
    }

    @Test func oneOfflineEventPerSilenceAndNothingWhileHeartbeatsKeepComing() async throws {
        await propertyCheck(count: Self.iterations, input: Self.schedules) { schedule in
            try await Self.run(schedule)
        }
    }

    static func run(_ schedule: Schedule) async throws {
        let directory = try TestDirectory("property-liveness")
        defer { directory.remove() }
        let path = directory.file("safety.sqlite")
        let clock = ManualClock(Timestamp(millis: t0))
        var safetySettings = SafetySettings()
        safetySettings.liveness = settings
        var engine = try SafetyEngine.open(path: path, clock: clock, settings: safetySettings)
        var restartedAt = t0
        var seq: Int64 = 0
        let start = Timestamp(millis: t0)
        seq += 2
        try await engine.apply([
            SafetyRecords.town(seq: 1, id: "dongcheng", name: "东成镇", at: start),
            SafetyRecords.institution(seq: 2, id: "kg-1", name: "东成镇中心幼儿园", town: "dongcheng", at: start),
        ])
        var models: [String: Model] = [:]
        var seen = 0  // outbox frames already looked at
        var log: [String] = []  // what happened, for the failure message

        /// The events queued since the last call.
        func newEvents() throws -> [Event] {
            guard case .success(let result) = SafetyQueries.outbox(engine: engine, limit: 100_000) else {
                throw PropertyLivenessError.outbox
            }
            let frames = result["frames"]?.arrayValue ?? []
            defer { seen = frames.count }
            return Self.deviceEvents(frames.dropFirst(seen))
        }

        func silence(_ model: Model, at now: Int64) -> Int64 { now - max(model.lastReceived, restartedAt) }

        /// Compares what the engine queued with what the rules allow and require.
        func compare(_ actual: [Event], _ expected: [Event], _ what: String) {
            log.append("+\((clock.now().millis - t0) / 1000)s \(what): \(actual)")
            if actual != expected {
                Issue.record("at +\((clock.now().millis - t0) / 1000)s, \(what): events \(actual), the rules say \(expected); history: \(log.suffix(12))")
            }
        }

        for step in schedule.steps {
            // Time passes, checked every check interval.
            var remaining = Int64(step.seconds) * 1000
            while remaining > 0 {
                let delta = min(remaining, checkIntervalMillis)
                remaining -= delta
                clock.advance(millis: delta)
                let now = clock.now().millis
                let report = try await engine.check()
                #expect(report.heldBack == nil, "nothing holds the check back here: \(report.heldBack ?? "")")
                var expected: [Event] = []
                for device in devices {
                    guard var model = models[device] else { continue }
                    if model.state != .offline, silence(model, at: now) >= settings.offlineAfterMillis {
                        model.state = .offline
                        if model.alerting < .offline {
                            model.alerting = .offline
                            expected.append(Event(device: device, kind: "offline"))
                        }
                    } else if model.state == .online, model.alerting != .none, now - model.since >= settings.holdDownMillis {
                        model.alerting = .none
                        expected.append(Event(device: device, kind: "online"))
                    }
                    models[device] = model
                }
                let actual = try newEvents()
                compare(actual.sorted { $0.device < $1.device }, expected, "check")
                #expect(report.wentOffline == actual.filter { $0.kind == "offline" }.count, "the report counts what was queued")
                #expect(report.cameBack == actual.filter { $0.kind == "online" }.count, "the report counts what was queued")
            }
            if step.restart <= 1 {
                if step.restart == 0 { try await engine.flushLastSeen() }
                engine = try SafetyEngine.open(path: path, clock: clock, settings: safetySettings)
                restartedAt = clock.now().millis
                log.append(step.restart == 0 ? "restart" : "kill -9")
            }
            let now = clock.now().millis
            for (index, send) in step.sends.enumerated() where send != 4 {
                let device = devices[index]
                let ok = send != 3
                seq += 1
                let record = SafetyRecords.heartbeat(
                    seq: seq, device: device, institution: "kg-1", status: ok ? "ok" : "fault", at: clock.now())
                try await engine.apply([record])
                if send == 5 { try await engine.apply([record]) }  // delivered again: no second effect
                var expected: [Event] = []
                if var model = models[device] {
                    model.lastReceived = now
                    if ok {
                        if model.state != .online {
                            model.state = .online
                            model.since = now
                        }
                        if model.alerting != .none, now - model.since >= settings.holdDownMillis {
                            model.alerting = .none
                            expected.append(Event(device: device, kind: "online"))
                        }
                    } else {
                        if model.state != .fault {
                            model.state = .fault
                            model.since = now
                        }
                        if model.alerting == .none {
                            model.alerting = .fault
                            expected.append(Event(device: device, kind: "fault"))
                        }
                    }
                    models[device] = model
                } else {
                    models[device] = Model(state: ok ? .online : .fault, alerting: ok ? .none : .fault, since: now, lastReceived: now)
                    if !ok { expected.append(Event(device: device, kind: "fault")) }
                }
                compare(try newEvents(), expected, "\(device) heartbeat \(ok ? "ok" : "fault")")
            }
        }
        // The abstract rules over the whole run, per device.
        guard case .success(let result) = SafetyQueries.outbox(engine: engine, limit: 100_000) else { throw PropertyLivenessError.outbox }
        let all = Self.deviceEvents(result["frames"]?.arrayValue ?? [])
        for device in devices {
            var firing: [String] = []
            for event in all where event.device == device {
                switch event.kind {
                case "offline":
                    #expect(!firing.contains("offline"), "\(device): two offline events without an online between: \(all)")
                    firing.append("offline")
                case "fault":
                    #expect(firing.isEmpty, "\(device): a fault event while \(firing) fires: \(all)")
                    firing.append("fault")
                default:
                    #expect(!firing.isEmpty, "\(device): an online event with nothing firing: \(all)")
                    firing = []
                }
            }
        }
    }
}

enum PropertyLivenessError: Error { case outbox }
