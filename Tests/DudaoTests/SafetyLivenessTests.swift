import DudaoFeeds
import DudaoLinks
import DudaoBench
import DudaoCore
import DudaoStorage
import DudaoTesting
import Logging
import Testing

@testable import dudao_safety

/// The device state machine (online, offline, fault) on a manual clock, alone and through the
/// engine with its SQLite file, across a restart.
@Suite struct SafetyLivenessTests {
    static let t0: Int64 = 1_795_910_400_000
    static let settings = LivenessSettings(offlineAfterMillis: 180_000, holdDownMillis: 60_000)

    /// 东成镇 and its kindergarten kg-1, registered (sequence numbers 1 and 2).
    static func dongcheng(at t0: Timestamp) -> [LogRecord] {
        [
            SafetyRecords.town(seq: 1, id: "dongcheng", name: "东成镇", at: t0),
            SafetyRecords.institution(seq: 2, id: "kg-1", name: "东成镇中心幼儿园", town: "dongcheng", at: t0),
        ]
    }

    /// The engine in `directory` on `backend` with these liveness settings (a restart opens the
    /// same database again).
    static func engine(_ directory: TestDirectory, _ backend: StoreBackend, clock: ManualClock) throws -> SafetyEngine {
        var settings = SafetySettings()
        settings.liveness = Self.settings
        return try SafetyEngine.open(
            location: backend.location("safety", in: directory), clock: clock, settings: settings, logger: Logger(label: "test"))
    }

    @Test func offlineAfterExactlyOfflineAfterThenOnlineAfterHoldDown() {
        let s = Self.settings
        var (device, first) = Liveness.firstHeartbeat(institution: 0, kind: .alarm, ok: true, at: Self.t0, receivedAt: Self.t0)
        #expect(first == nil)
        #expect(device.state == .online)
        #expect(Liveness.check(&device, now: Self.t0 + 179_999, graceFrom: 0, settings: s) == nil)
        #expect(device.state == .online)
        #expect(Liveness.check(&device, now: Self.t0 + 180_000, graceFrom: 0, settings: s) == .wentOffline)
        #expect(device.state == .offline)
        #expect(device.since == Self.t0 + 180_000)
        // One event per silence, however often it is checked.
        #expect(Liveness.check(&device, now: Self.t0 + 500_000, graceFrom: 0, settings: s) == nil)
        // Back: online at once, the online event after the hold-down.
        let back = Self.t0 + 600_000
        #expect(Liveness.heartbeat(&device, ok: true, at: back, receivedAt: back, settings: s) == nil)
        #expect(device.state == .online)
        #expect(device.alerting == .offline)
        #expect(Liveness.check(&device, now: back + 59_999, graceFrom: 0, settings: s) == nil)
        #expect(Liveness.check(&device, now: back + 60_000, graceFrom: 0, settings: s) == .cameBack)
        #expect(device.alerting == .none)
        #expect(Liveness.check(&device, now: back + 70_000, graceFrom: 0, settings: s) == nil)
    }

    @Test func faultRaisesOnceAndEscalatesToOffline() {
        let s = Self.settings
        var (device, first) = Liveness.firstHeartbeat(institution: 0, kind: .alarm, ok: false, at: Self.t0, receivedAt: Self.t0)
        #expect(first == .reportedFault)
        #expect(device.state == .fault)
        #expect(Liveness.heartbeat(&device, ok: false, at: Self.t0 + 60_000, receivedAt: Self.t0 + 60_000, settings: s) == nil)
        // Silent while faulty: escalates to offline.
        #expect(Liveness.check(&device, now: Self.t0 + 240_000, graceFrom: 0, settings: s) == .wentOffline)
        // Back but faulty: no second event (offline outranks fault), still firing.
        #expect(Liveness.heartbeat(&device, ok: false, at: Self.t0 + 300_000, receivedAt: Self.t0 + 300_000, settings: s) == nil)
        #expect(device.state == .fault)
        // Healthy again: resolved after the hold-down, on a heartbeat.
        #expect(Liveness.heartbeat(&device, ok: true, at: Self.t0 + 310_000, receivedAt: Self.t0 + 310_000, settings: s) == nil)
        #expect(Liveness.heartbeat(&device, ok: true, at: Self.t0 + 370_000, receivedAt: Self.t0 + 370_000, settings: s) == .cameBack)
    }

    @Test func olderHeartbeatsChangeNothing() {
        let s = Self.settings
        var (device, _) = Liveness.firstHeartbeat(institution: 0, kind: .alarm, ok: true, at: Self.t0, receivedAt: Self.t0)
        let before = device
        #expect(Liveness.heartbeat(&device, ok: false, at: Self.t0 - 1, receivedAt: Self.t0 + 5, settings: s) == nil)
        #expect(device == before)
    }

    /// Whatever a device's heartbeats do, it raises at most one offline/online pair per
    /// offline_after + hold_down (plus the first fault): no flapping storm.
    @Test func flappingIsBounded() {
        let s = Self.settings
        var generator = SplitMix(seed: 7)
        var (device, _) = Liveness.firstHeartbeat(institution: 0, kind: .alarm, ok: true, at: Self.t0, receivedAt: Self.t0)
        var events = 0
        var now = Self.t0
        let end = Self.t0 + 24 * 3_600_000
        var nextHeartbeat = now
        while now < end {
            now += 1000
            if now >= nextHeartbeat {
                let ok = generator.next() % 5 != 0
                if Liveness.heartbeat(&device, ok: ok, at: now, receivedAt: now, settings: s) != nil { events += 1 }
                // Gaps of 150-210 s: around the 180 s threshold.
                nextHeartbeat = now + 150_000 + Int64(generator.next() % 60_000)
            }
            if Liveness.check(&device, now: now, graceFrom: 0, settings: s) != nil { events += 1 }
        }
        let bound = 2 * Int((end - Self.t0) / (s.offlineAfterMillis + s.holdDownMillis)) + 2
        #expect(events <= bound, "\(events) events in a day, bound \(bound)")
        #expect(events > 0)
    }

    // MARK: through the engine and its SQLite file

    @Test(arguments: StoreBackend.allCases) func engineRaisesOneOfflineEventAndKeepsItAcrossARestart(backend: StoreBackend) async throws {
        let directory = try TestDirectory("safety-liveness")
        defer { directory.remove() }
        let t0 = Timestamp(millis: Self.t0)
        let clock = ManualClock(t0)
        var engine: SafetyEngine? = try Self.engine(directory, backend, clock: clock)
        try await engine!.apply(Self.dongcheng(at: t0) + [
            SafetyRecords.heartbeat(seq: 3, device: "dev-a", institution: "kg-1", at: t0),
            SafetyRecords.heartbeat(seq: 4, device: "dev-b", institution: "kg-1", at: t0),
        ])
        clock.advance(millis: 100_000)
        try await engine!.apply([SafetyRecords.heartbeat(seq: 5, device: "dev-a", institution: "kg-1", at: clock.now())])
        clock.advance(millis: 79_999)
        #expect(try await engine!.check().wentOffline == 0)
        clock.advance(millis: 1)
        #expect(try await engine!.check().wentOffline == 1)
        #expect(try await engine!.check().wentOffline == 0)
        var queued = try outbox(engine!, devicesOnly: true)
        #expect(queued.map(\.id) == ["safety:offline:dev-b:\(Self.t0)"])
        let event = try #require(queued.first)
        #expect(event.type == "safety.device_offline")
        #expect(event.body["severity"] == "warning")
        #expect(event.body["status"] == "firing")
        #expect(event.body["alert_key"] == "device:dev-b")
        #expect(event.body["town_id"] == "dongcheng")
        #expect(event.body["institution_id"] == "kg-1")
        #expect(event.body["device_id"] == "dev-b")
        #expect(event.body["summary"]?.stringValue?.contains("东成镇中心幼儿园") == true)

        // Restart 20 s later: dev-b stays offline without a second event; dev-a (last seen
        // at t0+100 s) gets a full offline_after from the restart instead of going offline at t0+280 s.
        // (The service flushes last_seen every last_seen_flush_seconds and on SIGTERM; after a
        // kill -9 the flushed value can be up to that much older, which only changes the
        // "last heartbeat" an offline event reports, never whether or when it is raised.)
        try await engine!.flushLastSeen()
        engine = nil
        clock.advance(millis: 20_000)
        let restartedAt = clock.now().millis
        let restarted = try Self.engine(directory, backend, clock: clock)
        #expect(restarted.read { $0.devices.records[Int($0.devices.find("dev-b")!)].state } == .offline)
        #expect(try await restarted.check().wentOffline == 0)
        clock.advance(millis: 179_999)
        #expect(try await restarted.check().wentOffline == 0)
        clock.advance(millis: 1)
        #expect(clock.now().millis == restartedAt + 180_000)
        #expect(try await restarted.check().wentOffline == 1)
        queued = try outbox(restarted, devicesOnly: true)
        #expect(queued.map(\.id) == ["safety:offline:dev-b:\(Self.t0)", "safety:offline:dev-a:\(Self.t0 + 100_000)"])

        // dev-b comes back: online at once, resolved after the hold-down, once.
        let back = clock.now()
        try await restarted.apply([SafetyRecords.heartbeat(seq: 6, device: "dev-b", institution: "kg-1", at: back)])
        #expect(restarted.read { $0.devices.records[Int($0.devices.find("dev-b")!)].state } == .online)
        clock.advance(millis: 60_000)
        #expect(try await restarted.check().cameBack == 1)
        #expect(try await restarted.check().cameBack == 0)
        let online = try #require(try outbox(restarted, devicesOnly: true).last)
        #expect(online.id == "safety:online:dev-b:\(back.millis)")
        #expect(online.type == "safety.device_online")
        #expect(online.body["status"] == "resolved")
        #expect(online.body["alert_key"] == "device:dev-b")
    }

    @Test(arguments: StoreBackend.allCases) func aRecordAppliedTwiceHasOneEffect(backend: StoreBackend) async throws {
        let directory = try TestDirectory("safety-replay")
        defer { directory.remove() }
        let t0 = Timestamp(millis: Self.t0)
        let clock = ManualClock(t0)
        let engine = try SafetyEngine.open(
            location: backend.location("safety", in: directory), clock: clock, settings: SafetySettings(), logger: Logger(label: "test"))
        let batch = Self.dongcheng(at: t0) + [
            SafetyRecords.heartbeat(seq: 3, device: "dev-a", institution: "kg-1", status: "fault", at: t0),
        ]
        try await engine.apply(batch)
        try await engine.apply(batch)
        #expect(try outbox(engine).map(\.id) == ["safety:fault:dev-a:\(Self.t0)"])
        #expect(engine.read { $0.position } == 3)
    }

    @Test(arguments: StoreBackend.allCases) func offlineIsHeldBackWhileReconnectingOrCatchingUp(backend: StoreBackend) async throws {
        let directory = try TestDirectory("safety-hold")
        defer { directory.remove() }
        let t0 = Timestamp(millis: Self.t0)
        let clock = ManualClock(t0)
        let engine = try Self.engine(directory, backend, clock: clock)
        try await engine.apply(Self.dongcheng(at: t0) + [
            SafetyRecords.heartbeat(seq: 3, device: "dev-a", institution: "kg-1", at: t0),
        ])
        // The consumer lost the ingest and is reconnecting: nothing goes offline meanwhile.
        clock.advance(millis: 200_000)
        _ = engine.consumerPosition()
        clock.advance(millis: 10_000)
        let held = try await engine.check()
        #expect(held.heldBack != nil)
        #expect(held.wentOffline == 0)
        // It reconnected and now replays a backlog 190 s old: still held back.
        try await engine.apply([SafetyRecords.heartbeat(seq: 4, device: "dev-b", institution: "kg-1", at: Timestamp(millis: Self.t0 + 20_000))])
        #expect(try await engine.check().heldBack == "catching up with the ingest log")
        // Caught up (a fresh record): dev-a, silent for 210 s, goes offline; dev-b (20 s later) too.
        try await engine.apply([SafetyRecords.heartbeat(seq: 5, device: "dev-c", institution: "kg-1", at: clock.now())])
        let report = try await engine.check()
        #expect(report.heldBack == nil)
        #expect(report.wentOffline == 2)
    }

    /// All devices of an institution offline: one `safety.institution_offline` (notify then holds
    /// back the per-device alerts); one device back: resolved. A one-device institution: none.
    @Test(arguments: StoreBackend.allCases) func anInstitutionWithEveryDeviceOfflineIsDownOnce(backend: StoreBackend) async throws {
        let directory = try TestDirectory("safety-institution")
        defer { directory.remove() }
        let t0 = Timestamp(millis: Self.t0)
        let clock = ManualClock(t0)
        let engine = try Self.engine(directory, backend, clock: clock)
        try await engine.apply(Self.dongcheng(at: t0) + [
            SafetyRecords.institution(seq: 3, id: "kg-2", name: "东成镇第一幼儿园", town: "dongcheng", at: t0),
            SafetyRecords.heartbeat(seq: 4, device: "a", institution: "kg-1", at: t0),
            SafetyRecords.heartbeat(seq: 5, device: "b", institution: "kg-1", kind: "cctv_link", at: t0),
            SafetyRecords.heartbeat(seq: 6, device: "c", institution: "kg-2", at: t0),
        ])
        clock.advance(millis: 180_000)
        let report = try await engine.check()
        #expect(report.wentOffline == 3)
        #expect(report.institutionsDown == 1)
        #expect(try await engine.check().institutionsDown == 0)
        var down = try outbox(engine).filter { $0.type == "safety.institution_offline" }
        #expect(down.map(\.id) == ["safety:institution_offline:kg-1:\(Self.t0 + 180_000)"])
        #expect(down.first?.body["alert_key"] == "institution:kg-1")
        #expect(down.first?.body["status"] == "firing")

        // It survives a restart, and one device back ends it.
        let reopened = try Self.engine(directory, backend, clock: clock)
        #expect(reopened.read { $0.institutionsDown.keys.sorted() } == ["kg-1"])
        clock.advance(millis: 1000)
        try await reopened.apply([SafetyRecords.heartbeat(seq: 7, device: "b", institution: "kg-1", kind: "cctv_link", at: clock.now())])
        #expect(try await reopened.check().institutionsBack == 1)
        down = try outbox(reopened).filter { $0.type.hasPrefix("safety.institution_") }
        #expect(down.map(\.type) == ["safety.institution_offline", "safety.institution_online"])
        #expect(down.last?.body["status"] == "resolved")
        #expect(down.last?.body["alert_key"] == "institution:kg-1")
    }

    /// The queued events, oldest first (`devicesOnly`: leave out institution events).
    func outbox(_ engine: SafetyEngine, devicesOnly: Bool = false) throws -> [(id: String, type: String, body: JSONValue)] {
        guard case .success(let result) = SafetyQueries.outbox(engine: engine, limit: 1000) else { return [] }
        return (result["frames"]?.arrayValue ?? []).map { ($0["id"]?.stringValue ?? "", $0["type"]?.stringValue ?? "", $0["body"] ?? .null) }
            .filter { !devicesOnly || $0.type.hasPrefix("safety.device_") }
    }
}
