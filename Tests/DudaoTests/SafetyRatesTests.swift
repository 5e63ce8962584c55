import DudaoCore
import DudaoTesting
import Testing

@testable import dudao_safety

/// The four compliance rates and the alarm-online rate at city and town scope, with
/// unreported and partially compliant kindergartens (INDICATORS.md, safety systems).
@Suite struct SafetyRatesTests {
    static let t0 = Timestamp(millis: 1_795_910_400_000)

    /// Town A: kg-a1 compliant (alarms a1 online, a2 never heard from), kg-a2 partial (no alarm,
    /// CCTV not linked, 0 of max(0, 1) guards), kg-a3 unreported, ps-a1 a primary school not linked.
    /// Town B: kg-b1 one guard of two required (alarm b1 faulty), kg-b2 compliant (c1 online,
    /// c2 offline). Town C: no kindergarten. A junior school in B sent nothing.
    static func engine(in directory: TestDirectory) async throws -> (SafetyEngine, ManualClock) {
        let clock = ManualClock(t0)
        let engine = try SafetyEngine.open(path: directory.file("safety.sqlite"), clock: clock)
        var seq: Int64 = 0
        func next() -> Int64 {
            seq += 1
            return seq
        }
        let t0 = Self.t0
        var records = [
            SafetyRecords.town(seq: next(), id: "a", name: "甲镇", at: t0),
            SafetyRecords.town(seq: next(), id: "b", name: "乙镇", at: t0),
            SafetyRecords.town(seq: next(), id: "c", name: "丙镇", at: t0),
        ]
        for (id, town, level) in [
            ("kg-a1", "a", "kindergarten"), ("kg-a2", "a", "kindergarten"), ("kg-a3", "a", "kindergarten"), ("ps-a1", "a", "primary"),
            ("kg-b1", "b", "kindergarten"), ("kg-b2", "b", "kindergarten"), ("js-b1", "b", "junior"),
        ] {
            records.append(SafetyRecords.institution(seq: next(), id: id, name: "机构\(id)", town: town, level: level, at: t0))
        }
        records += [
            SafetyRecords.inventory(seq: next(), institution: "kg-a1", alarms: ["a1", "a2"], at: t0),
            SafetyRecords.inventory(seq: next(), institution: "kg-a2", alarms: [], linked: false, guardsRequired: 0, guards: 0, at: t0),
            SafetyRecords.inventory(seq: next(), institution: "ps-a1", alarms: ["p1"], linked: false, at: t0),
            SafetyRecords.inventory(seq: next(), institution: "kg-b1", alarms: ["b1"], guardsRequired: 2, guards: 1, at: t0),
            SafetyRecords.inventory(seq: next(), institution: "kg-b2", alarms: ["c1", "c2"], at: t0),
            SafetyRecords.heartbeat(seq: next(), device: "a1", institution: "kg-a1", at: t0),
            SafetyRecords.heartbeat(seq: next(), device: "p1", institution: "ps-a1", at: t0),
            SafetyRecords.heartbeat(seq: next(), device: "b1", institution: "kg-b1", status: "fault", at: t0),
            SafetyRecords.heartbeat(seq: next(), device: "c1", institution: "kg-b2", at: t0),
            SafetyRecords.heartbeat(seq: next(), device: "c2", institution: "kg-b2", at: t0),
        ]
        try await engine.apply(records)
        // c2 falls silent; the others keep reporting.
        clock.advance(millis: 100_000)
        let now = clock.now()
        try await engine.apply([
            SafetyRecords.heartbeat(seq: next(), device: "a1", institution: "kg-a1", at: now),
            SafetyRecords.heartbeat(seq: next(), device: "p1", institution: "ps-a1", at: now),
            SafetyRecords.heartbeat(seq: next(), device: "b1", institution: "kg-b1", status: "fault", at: now),
            SafetyRecords.heartbeat(seq: next(), device: "c1", institution: "kg-b2", at: now),
        ])
        clock.advance(millis: 80_000)
        #expect(try await engine.check().wentOffline == 1)
        return (engine, clock)
    }

    static func query(_ engine: SafetyEngine, _ type: String, _ body: JSONValue) throws -> JSONValue {
        try SafetyQueries.answer(type: type, body: body.objectValue ?? [:], engine: engine).get()
    }

    /// `(numerator, denominator, status)` of each rate, in order.
    static func rates(_ body: JSONValue) -> [String: (Int64, Int64, String)] {
        var result: [String: (Int64, Int64, String)] = [:]
        for rate in body["rates"]?.arrayValue ?? [] {
            result[rate["id"]?.stringValue ?? ""] = (
                rate["numerator"]?.intValue ?? -1, rate["denominator"]?.intValue ?? -1, rate["status"]?.stringValue ?? ""
            )
        }
        return result
    }

    @Test func cityAndTownRates() async throws {
        let directory = try TestDirectory("safety-rates")
        defer { directory.remove() }
        let (engine, _) = try await Self.engine(in: directory)

        let city = try Self.query(engine, "safety.rates", ["scope": "city"])
        #expect(city["kindergartens"] == 5)
        #expect(city["unreported"] == ["kg-a3"])
        let c = Self.rates(city)
        #expect(c["safety.alarm_install_rate"]! == (3, 5, "not_met"))
        #expect(c["safety.police_link_rate"]! == (3, 5, "not_met"))
        #expect(c["safety.closed_management_rate"]! == (4, 5, "not_met"))
        #expect(c["safety.guard_staffing_rate"]! == (2, 5, "not_met"))
        // Kindergarten alarm devices: a1 online, a2 never heard from, b1 faulty, c1 online, c2 offline.
        #expect(c["safety.alarm_online_rate"]! == (2, 5, "tracked"))
        #expect(city["rates"]?.arrayValue?.first?["value"] == .double(60))
        #expect(city["rates"]?.arrayValue?.first?["name_zh"] == "“一键报警”系统安装率")
        #expect(city["alarms_online"] == 2)
        #expect(city["devices_offline"] == 1)
        #expect(city["devices_fault"] == 1)
        #expect(city["devices_never_seen"] == 1)

        let a = Self.rates(try Self.query(engine, "safety.rates", ["scope": "town:a"]))
        #expect(a["safety.alarm_install_rate"]! == (1, 3, "not_met"))
        #expect(a["safety.police_link_rate"]! == (1, 3, "not_met"))
        #expect(a["safety.closed_management_rate"]! == (2, 3, "not_met"))
        #expect(a["safety.guard_staffing_rate"]! == (1, 3, "not_met"))
        #expect(a["safety.alarm_online_rate"]! == (1, 2, "tracked"))

        let bBody = try Self.query(engine, "safety.rates", ["scope": "town:b"])
        let b = Self.rates(bBody)
        #expect(b["safety.alarm_install_rate"]! == (2, 2, "met"))
        #expect(b["safety.police_link_rate"]! == (2, 2, "met"))
        #expect(b["safety.closed_management_rate"]! == (2, 2, "met"))
        #expect(b["safety.guard_staffing_rate"]! == (1, 2, "not_met"))
        #expect(bBody["unreported"] == [])
        #expect(bBody["rates"]?.arrayValue?.first?["value"] == .double(100))

        // No kindergarten: no data, value null.
        let cBody = try Self.query(engine, "safety.rates", ["scope": "town:c"])
        #expect(Self.rates(cBody)["safety.alarm_install_rate"]! == (0, 0, "no_data"))
        #expect(cBody["rates"]?.arrayValue?.first?["value"] == .null)
    }

    @Test func levelsCountOnlyReportingInstitutions() async throws {
        let directory = try TestDirectory("safety-levels")
        defer { directory.remove() }
        let (engine, _) = try await Self.engine(in: directory)
        let city = try Self.query(engine, "safety.rates", ["scope": "city"])
        let levels = try #require(city["by_level"]?.objectValue)
        #expect(levels.keys == ["kindergarten", "primary"])
        #expect(levels["kindergarten"]?["institutions"] == 4)
        #expect(levels["primary"]?["institutions"] == 1)
        let primary = Self.rates(levels["primary"]!)
        #expect(primary["safety.police_link_rate"]! == (0, 1, "not_met"))
        #expect(primary["safety.alarm_install_rate"]! == (1, 1, "met"))
        #expect(primary["safety.alarm_online_rate"]! == (1, 1, "tracked"))
    }

    @Test func nonCompliantInstitutionsWithReasons() async throws {
        let directory = try TestDirectory("safety-noncompliant")
        defer { directory.remove() }
        let (engine, _) = try await Self.engine(in: directory)
        let list = try Self.query(engine, "safety.noncompliant", ["scope": "city"])
        let entries = list["institutions"]?.arrayValue ?? []
        var reasons: [String: [String]] = [:]
        for entry in entries {
            reasons[entry["institution_id"]?.stringValue ?? ""] = (entry["reasons"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
        }
        #expect(reasons["kg-a2"] == ["no_alarm_device", "cctv_not_linked", "guards_short"])
        #expect(reasons["kg-a3"] == ["unreported"])
        #expect(reasons["ps-a1"] == ["cctv_not_linked"])
        #expect(reasons["kg-b1"] == ["guards_short"])
        #expect(reasons.count == 4)
        let unreported = entries.first { $0["institution_id"] == "kg-a3" }
        #expect(unreported?["unreported"] == true)
        let short = entries.first { $0["institution_id"] == "kg-b1" }
        #expect(short?["reasons"]?.arrayValue?.first?["text"] == "专职保安不足（需 2 名，现有 1 名）")

        let townB = try Self.query(engine, "safety.noncompliant", ["scope": "town:b"])
        #expect(townB["count"] == 1)
    }

    @Test func everyInstitutionOfAScopeWithItsInventoryAndDevices() async throws {
        let directory = try TestDirectory("safety-institutions")
        defer { directory.remove() }
        let (engine, _) = try await Self.engine(in: directory)
        let townA = try Self.query(engine, "safety.institutions", ["scope": "town:a"])
        let rows = townA["institutions"]?.arrayValue ?? []
        // Kindergartens only by default: the primary school is left out.
        #expect(rows.compactMap { $0["institution_id"]?.stringValue } == ["kg-a1", "kg-a2", "kg-a3"])
        #expect(townA["compliant"] == 1)
        let a1 = rows[0]
        #expect(a1["compliant"] == true)
        #expect(a1["town_name"] == "甲镇")
        #expect(a1["inventory"]?["alarm_devices"] == ["a1", "a2"])
        #expect(a1["devices"]?["alarm"] == 2)
        #expect(a1["devices"]?["alarm_online"] == 1)
        #expect(a1["devices"]?["never_seen"] == 1)
        #expect(rows[2]["unreported"] == true)
        #expect(rows[2]["inventory"] == .null)
        #expect(rows[2]["reasons"]?.arrayValue?.first?["code"] == "unreported")

        let all = try Self.query(engine, "safety.institutions", ["scope": "town:b", "level": "all"])
        #expect(all["count"] == 3)
        let one = try Self.query(engine, "safety.institutions", ["scope": "institution:kg-b1"])
        #expect(one["institutions"]?.arrayValue?.first?["reasons"]?.arrayValue?.first?["code"] == "guards_short")
        #expect(throws: (any Error).self) { try Self.query(engine, "safety.institutions", ["scope": "city", "level": "college"]) }
    }

    @Test func devicesAlarmsAndScopes() async throws {
        let directory = try TestDirectory("safety-devices")
        defer { directory.remove() }
        let (engine, clock) = try await Self.engine(in: directory)
        let problems = try Self.query(engine, "safety.devices", ["scope": "city"])
        let states = Dictionary(
            uniqueKeysWithValues: (problems["devices"]?.arrayValue ?? []).map { ($0["device_id"]?.stringValue ?? "", $0["state"]?.stringValue ?? "") })
        #expect(states == ["a2": "never_seen", "b1": "fault", "c2": "offline"])
        #expect(try Self.query(engine, "safety.devices", ["scope": "town:a", "state": "online"])["count"] == 2)

        // An alarm: one critical event, open until alarm_open_minutes have passed.
        let pressed = clock.now()
        try await engine.apply([SafetyRecords.alarm(seq: 100, device: "a1", institution: "kg-a1", at: pressed, note: "演练")])
        try await engine.apply([SafetyRecords.alarm(seq: 101, device: "a1", institution: "kg-a1", at: pressed, note: "演练（更正）")])
        let open = try Self.query(engine, "safety.alarms", ["scope": "town:a"])
        #expect(open["count"] == 1)
        #expect(try Self.query(engine, "safety.alarms", ["scope": "town:b"])["count"] == 0)
        #expect(try Self.query(engine, "safety.rates", ["scope": "city"])["open_alarms"] == 1)
        let frames = try Self.query(engine, "safety.outbox", [:])["frames"]?.arrayValue ?? []
        let alarms = frames.filter { $0["type"] == "safety.alarm" }
        #expect(alarms.count == 1)
        #expect(alarms.first?["id"] == .string("safety:alarm:a1:\(pressed.millis)"))
        #expect(alarms.first?["body"]?["severity"] == "critical")
        #expect(alarms.first?["body"]?["town_id"] == "a")
        #expect(alarms.first?["body"]?["institution_id"] == "kg-a1")
        #expect(alarms.first?["body"]?["device_id"] == "a1")
        clock.advance(millis: 30 * 60_000)
        #expect(try await engine.check().closedAlarms == 1)
        #expect(try Self.query(engine, "safety.alarms", [:])["count"] == 0)

        // Bad scopes are refused with the field's path.
        let unknown = SafetyQueries.answer(type: "safety.rates", body: ["scope": "town:nowhere"], engine: engine)
        #expect(throws: WireError.self) { try unknown.get() }
        if case .failure(let error) = unknown { #expect(error.code == .unknownReference) }
        if case .failure(let error) = SafetyQueries.answer(type: "safety.rates", body: ["scope": "province"], engine: engine) {
            #expect(error.code == .invalidField)
            #expect(error.path == "body.scope")
        } else {
            Issue.record("scope province was accepted")
        }
    }
}
