import DudaoCore
import DudaoTesting
import Testing

@testable import dudao_safety

/// A one-key alarm device that its institution's newer `safety.inventory` no longer lists is
/// retired: what was firing for it is resolved once, it no longer counts in the rates, the
/// problem list or a link-down, and it stays so across a restart until it sends a heartbeat.
@Suite struct SafetyRetirementTests {
    static let t0 = SafetyLivenessTests.t0

    @Test(arguments: StoreBackend.allCases) func aDeviceDroppedFromTheInventoryIsRetiredOnceAndNoLongerCounted(backend: StoreBackend) async throws {
        let directory = try TestDirectory("safety-retire")
        defer { directory.remove() }
        let t0 = Timestamp(millis: Self.t0)
        let clock = ManualClock(t0)
        var engine = try SafetyLivenessTests.engine(directory, backend, clock: clock)
        try await engine.apply(SafetyLivenessTests.dongcheng(at: t0) + [
            SafetyRecords.institution(seq: 3, id: "kg-2", name: "东成镇第一幼儿园", town: "dongcheng", at: t0),
            SafetyRecords.inventory(seq: 4, institution: "kg-1", alarms: ["a", "b", "m"], at: t0),
            SafetyRecords.heartbeat(seq: 5, device: "a", institution: "kg-1", at: t0),
            SafetyRecords.heartbeat(seq: 6, device: "b", institution: "kg-1", at: t0),
            SafetyRecords.heartbeat(seq: 7, device: "m", institution: "kg-1", at: t0),
        ])
        // b falls silent; a keeps reporting; m moves to kg-2.
        clock.advance(millis: 100_000)
        try await engine.apply([
            SafetyRecords.heartbeat(seq: 8, device: "a", institution: "kg-1", at: clock.now()),
            SafetyRecords.heartbeat(seq: 9, device: "m", institution: "kg-2", at: clock.now()),
        ])
        clock.advance(millis: 80_000)
        #expect(try await engine.check().wentOffline == 1)
        func state(_ device: String) -> DeviceState? {
            engine.read { state in state.devices.find(device).map { state.devices.records[Int($0)].state } }
        }
        #expect(state("b") == .offline)
        #expect(engine.read { ComplianceRates.institutions($0, online: engine.onlineWindow)["kg-1"]?.alarmDevices } == 3)  // a, b and the listed m

        // The bureau's newer inventory of kg-1 lists a only.
        let dropped = clock.now()
        try await engine.apply([SafetyRecords.inventory(seq: 10, institution: "kg-1", alarms: ["a"], at: dropped)])
        #expect(state("b") == .retired)
        #expect(state("m") == .online, "m belongs to kg-2 now; kg-1's inventory does not retire it")
        var events = try outbox(engine).filter { $0.body["alert_key"] == "device:b" }
        #expect(events.map(\.id) == ["safety:offline:b:\(Self.t0)", "safety:retired:b:\(dropped.millis)"])
        let retired = try #require(events.last)
        #expect(retired.type == "safety.device_retired")
        #expect(retired.body["status"] == "resolved")
        #expect(retired.body["severity"] == "info")
        #expect(retired.body["summary"]?.stringValue?.contains("移出") == true)

        // Not counted, not a problem, listed only when asked for.
        let kg1 = try #require(engine.read { ComplianceRates.institutions($0, online: engine.onlineWindow)["kg-1"] })
        #expect(kg1.alarmDevices == 1)
        #expect(kg1.alarmsOnline == 1)
        #expect(kg1.offline == 0)
        func devices(_ filter: String) -> [String] {
            guard case .success(let body) = SafetyQueries.answer(type: "safety.devices", body: ["scope": "city", "state": .string(filter)], engine: engine)
            else { return ["error"] }
            return (body["devices"]?.arrayValue ?? []).compactMap { $0["device_id"]?.stringValue }
        }
        #expect(devices("problem") == [])
        #expect(devices("retired") == ["b"])
        guard case .success(let status) = SafetyQueries.answer(type: "safety.status", body: [:], engine: engine) else {
            Issue.record("safety.status failed")
            return
        }
        #expect(status["retired"] == 1)

        // The same inventory again, or an older one, retires nothing more.
        try await engine.apply([
            SafetyRecords.inventory(seq: 11, institution: "kg-1", alarms: ["a"], at: dropped),
            SafetyRecords.inventory(seq: 12, institution: "kg-1", alarms: ["a", "b"], at: t0),
        ])
        #expect(state("b") == .retired)

        // Across a restart: still retired, never offline again while silent; a alone goes offline
        // (a one-device institution is not a link-down).
        engine = try SafetyLivenessTests.engine(directory, backend, clock: clock)
        #expect(state("b") == .retired)
        clock.advance(millis: 600_000)
        let report = try await engine.check()
        #expect(report.wentOffline == 2)  // a (kg-1) and m (kg-2)
        #expect(report.institutionsDown == 0)
        events = try outbox(engine).filter { $0.body["alert_key"] == "device:b" }
        #expect(events.count == 2)

        // A heartbeat brings it back: watched again (its silence below raises an offline event);
        // kg-1's installed alarms are still the one its inventory lists (the rate counts listings,
        // as dudao-indicators does), while the device is counted as heard there.
        try await engine.apply([SafetyRecords.heartbeat(seq: 13, device: "b", institution: "kg-1", at: clock.now())])
        #expect(state("b") == .online)
        #expect(engine.read { ComplianceRates.institutions($0, online: engine.onlineWindow)["kg-1"]?.alarmDevices } == 1)
        #expect(engine.read { ComplianceRates.institutions($0, online: engine.onlineWindow)["kg-1"]?.devices } == 2)
        clock.advance(millis: 180_000)
        #expect(try await engine.check().wentOffline == 1)
        #expect(state("b") == .offline)

        // Listed, dropped (retired again), then listed again by a newer inventory: watched from
        // then on, so its silence raises a new offline event a full offline_after later.
        try await engine.apply([
            SafetyRecords.inventory(seq: 14, institution: "kg-1", alarms: ["a", "b"], at: clock.now()),
            SafetyRecords.inventory(seq: 15, institution: "kg-1", alarms: ["a"], at: Timestamp(millis: clock.now().millis + 1)),
        ])
        #expect(state("b") == .retired)
        // (a reports again first, so kg-1's link is not down: see the next test for that case.)
        clock.advance(millis: 1000)
        let relisted = clock.now()
        try await engine.apply([SafetyRecords.heartbeat(seq: 16, device: "a", institution: "kg-1", at: relisted)])
        #expect(try await engine.check().institutionsBack == 1)
        try await engine.apply([SafetyRecords.inventory(seq: 17, institution: "kg-1", alarms: ["a", "b"], at: relisted)])
        #expect(state("b") == .online)
        clock.advance(millis: 179_999)
        #expect(try await engine.check().wentOffline == 0)
        clock.advance(millis: 1)
        #expect(try await engine.check().wentOffline == 2)  // a and b
        #expect(try outbox(engine).last { $0.body["alert_key"] == "device:b" }?.id == "safety:offline:b:\(relisted.millis)")
    }

    /// A link-down does not end because devices were retired; it ends, said so, when none is left.
    @Test func retiringDevicesOfAnInstitutionThatIsDownDoesNotSayItCameBack() async throws {
        let directory = try TestDirectory("safety-retire-down")
        defer { directory.remove() }
        let t0 = Timestamp(millis: Self.t0)
        let clock = ManualClock(t0)
        let engine = try SafetyLivenessTests.engine(directory, .sqlite, clock: clock)
        try await engine.apply(SafetyLivenessTests.dongcheng(at: t0) + [
            SafetyRecords.inventory(seq: 3, institution: "kg-1", alarms: ["a", "b", "c"], at: t0),
            SafetyRecords.heartbeat(seq: 4, device: "a", institution: "kg-1", at: t0),
            SafetyRecords.heartbeat(seq: 5, device: "b", institution: "kg-1", at: t0),
            SafetyRecords.heartbeat(seq: 6, device: "c", institution: "kg-1", at: t0),
        ])
        clock.advance(millis: 200_000)
        #expect(try await engine.check().institutionsDown == 1)
        // Two of three retired: the one left is still offline, the link is still down.
        try await engine.apply([SafetyRecords.inventory(seq: 7, institution: "kg-1", alarms: ["a"], at: clock.now())])
        let report = try await engine.check()
        #expect(report.institutionsBack == 0)
        #expect(engine.read { $0.institutionsDown["kg-1"] } != nil)
        // One listed again while the link is down: as silent as the rest, no page, no "restored".
        clock.advance(millis: 1000)
        try await engine.apply([SafetyRecords.inventory(seq: 8, institution: "kg-1", alarms: ["a", "b"], at: clock.now())])
        clock.advance(millis: 300_000)
        let relisted = try await engine.check()
        #expect(relisted.institutionsBack == 0)
        #expect(relisted.wentOffline == 0)
        #expect(try outbox(engine).filter { $0.body["alert_key"] == "device:b" }.map(\.type) == ["safety.device_offline", "safety.device_retired"])
        // A heartbeat from it restores the link (it is watched like any device).
        try await engine.apply([SafetyRecords.heartbeat(seq: 9, device: "b", institution: "kg-1", at: clock.now())])
        #expect(try await engine.check().institutionsBack == 1)
        clock.advance(millis: 1000)
        try await engine.apply([SafetyRecords.heartbeat(seq: 10, device: "b", institution: "kg-1", at: clock.now())])
        clock.advance(millis: 200_000)
        #expect(try await engine.check().institutionsDown == 1)
        // Every device retired: it ends, and says why.
        try await engine.apply([SafetyRecords.inventory(seq: 11, institution: "kg-1", alarms: [], at: clock.now())])
        #expect(try await engine.check().institutionsBack == 1)
        let ended = try #require(try outbox(engine).last { $0.type == "safety.institution_online" })
        #expect(ended.body["status"] == "resolved")
        #expect(ended.body["summary"]?.stringValue?.contains("移出台账") == true, "\(ended.body)")
    }

    func outbox(_ engine: SafetyEngine) throws -> [(id: String, type: String, body: JSONValue)] {
        try SafetyLivenessTests().outbox(engine)
    }
}
