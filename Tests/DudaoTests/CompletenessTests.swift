import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import DudaoLinks
import DudaoStorage
import DudaoTesting
import GRDB
import Logging
import Testing

@testable import dudao_indicators

/// Data completeness and timeliness on a hand-made city, through the real model and its SQLite
/// store, with receipt times chosen by the test. Towns t1 (kg-a, kg-b, ps-a), t2 (kg-c, kg-d).
/// Due 2025: census 2025-09-30, inventories 2025-03-31, compulsory census 2025-10-31 (end of
/// day, Beijing time).
///
/// - preschool.census 2025: kg-a 09-01 (a correction on 11-01 keeps its first arrival: on time),
///   kg-b 10-02 (late), kg-c none, kg-d 09-30 23:00 +08:00 (on time, its last hour) → expected 4,
///   sent 3, late 1, missing 1: 75 % reported, 50 % on time; t1 2 of 2 (one late), t2 1 of 2.
/// - safety.inventory (kept current; sent once is sent): kg-a 01-10, kg-c 04-02 (late) → 2 of 4.
/// - compulsory.census 2025: ps-a none → 0 of 1.
@Suite struct CompletenessTests {
    static let schedule = """
        {"feeds": [
          {"type": "preschool.census", "levels": ["kindergarten"], "yearly": true, "due": "09-30"},
          {"type": "safety.inventory", "levels": ["kindergarten"], "yearly": false, "due": "03-31"},
          {"type": "compulsory.census", "levels": ["primary"], "yearly": true, "due": "10-31", "remind_days": 7}
        ]}
        """

    static func time(_ text: String) -> Timestamp { Timestamp(rfc3339: text)! }

    static var records: [(FeedType, JSONObject, Timestamp)] {
        typealias F = EvaluationFixture
        let early = time("2025-01-02T00:00:00+08:00")
        let kgA = F.census("kg-a", 2025, [("s1", "small", 20, 2, 1)], teachers: 2, caregivers: 1, staff: 3, certified: 2)
        var corrected = kgA
        corrected.1["staff_total"] = 4
        return [
            (F.town("t1").0, F.town("t1").1, early), (F.town("t2").0, F.town("t2").1, early),
            (F.institution("kg-a", town: "t1").0, F.institution("kg-a", town: "t1").1, early),
            (F.institution("kg-b", town: "t1").0, F.institution("kg-b", town: "t1").1, early),
            (F.institution("ps-a", town: "t1", level: "primary").0, F.institution("ps-a", town: "t1", level: "primary").1, early),
            (F.institution("kg-c", town: "t2").0, F.institution("kg-c", town: "t2").1, early),
            (F.institution("kg-d", town: "t2").0, F.institution("kg-d", town: "t2").1, early),
            (kgA.0, kgA.1, time("2025-09-01T10:00:00+08:00")),
            (.preschoolCensus, F.census("kg-b", 2025, [("s1", "small", 20, 2, 1)], teachers: 2, caregivers: 1, staff: 3, certified: 2).1,
             time("2025-10-02T10:00:00+08:00")),
            (.preschoolCensus, F.census("kg-d", 2025, [("s1", "small", 20, 2, 1)], teachers: 2, caregivers: 1, staff: 3, certified: 2).1,
             time("2025-09-30T23:00:00+08:00")),
            (corrected.0, corrected.1, time("2025-11-01T10:00:00+08:00")),
            (.safetyInventory, F.inventory("kg-a", devices: [], linked: true, closed: true, required: 1, guards: 1).1,
             time("2025-01-10T10:00:00+08:00")),
            (.safetyInventory, F.inventory("kg-c", devices: [], linked: true, closed: true, required: 1, guards: 1).1,
             time("2025-04-02T10:00:00+08:00")),
        ]
    }

    static func model(_ directory: TestDirectory, _ backend: StoreBackend = .sqlite) throws -> IndicatorsModel {
        let store = try IndicatorsStore(location: backend.location("indicators", in: directory), logger: Logger(label: "test"))
        let schedule = try ReportingSchedule.parse(try JSONParser.parse(Self.schedule), file: "reporting.json")
        return try IndicatorsModel(
            catalog: EvaluationNationalTests.both, schedule: schedule, store: store, currentYear: 2025, logger: Logger(label: "test"))
    }

    static func apply(_ model: IndicatorsModel) async throws {
        var batch: [LogRecord] = []
        for (index, (type, body, receivedAt)) in records.enumerated() {
            let key = try EvaluationFixture.key(type, body)
            var record = LogRecord(seq: Int64(index + 1), type: type, key: key, body: body, asOf: receivedAt)
            record.receivedAt = receivedAt
            batch.append(record)
        }
        try await model.apply(batch)
    }

    func feed(_ answer: JSONValue, _ type: String) throws -> JSONValue {
        try #require(answer["feeds"]?.arrayValue?.first { $0["type"]?.stringValue == type })
    }

    /// The records of a batch are stored many to a statement: a key twice in one batch (kg-a's
    /// census, then its correction) is stored as its last version, on both engines.
    @Test(arguments: StoreBackend.allCases) func aKeyTwiceInOneBatchIsStoredAsItsLast(backend: StoreBackend) async throws {
        let directory = try TestDirectory()
        let model = try Self.model(directory, backend)
        try await Self.apply(model)
        let store = try IndicatorsStore(location: backend.location("indicators", in: directory), logger: Logger(label: "test"))
        let stored = try store.load().records.filter { $0.0 == .preschoolCensus }
        #expect(stored.count == 3, "kg-a, kg-b, kg-d")
        let kgA = try #require(stored.first { $0.2["institution_id"] == "kg-a" })
        #expect(kgA.2["staff_total"] == 4, "the correction")
        #expect(kgA.3 == Self.time("2025-11-01T10:00:00+08:00"))
    }

    /// First arrivals are kept for reports only: completeness asks for nothing else, and a
    /// device's heartbeats would cost a row and a dictionary entry each for nothing. Rows an
    /// earlier build kept for other types are removed when the store is opened.
    @Test(arguments: StoreBackend.allCases) func arrivalsAreKeptForReportsOnly(backend: StoreBackend) async throws {
        let directory = try TestDirectory()
        let model = try Self.model(directory, backend)
        try await Self.apply(model)
        let heartbeat: JSONObject = [
            "device_id": "d1", "institution_id": "kg-a", "device_kind": "alarm", "at": "2025-09-01T08:00:00+08:00", "status": "ok",
        ]
        try await model.apply([LogRecord(seq: 100, type: .safetyHeartbeat, key: "d1", body: heartbeat, asOf: Self.time("2025-09-01T08:00:00+08:00"))])
        let store = try IndicatorsStore(location: backend.location("indicators", in: directory), logger: Logger(label: "test"))
        let types = try await store.database.read { db in try db.rows("SELECT DISTINCT type FROM arrivals ORDER BY type").map { row -> String in row[0] } }
        #expect(types == ["preschool.census", "safety.inventory"], "not the registry's, not the heartbeat's")
        #expect(await model.arrivals.count == 5, "kg-a, kg-b and kg-d's census; kg-a and kg-c's inventory")
        #expect(try await store.database.read { db in try db.rows("SELECT count(*) FROM records WHERE type = 'safety.heartbeat'").first?[0] } == Int64(1))
        guard backend == .sqlite else { return }
        // An arrival an earlier build kept for a heartbeat goes when the store is opened.
        try await store.database.write { db in
            try db.run("INSERT INTO arrivals (type, key, first_received_at) VALUES ('safety.heartbeat', 'd1', 1)")
            try db.run("DELETE FROM grdb_migrations WHERE identifier = 'v5-arrivals-reports-only'")
        }
        let reopened = try IndicatorsStore(location: backend.location("indicators", in: directory), logger: Logger(label: "test"))
        #expect(try await reopened.database.read { db in try db.rows("SELECT count(*) FROM arrivals WHERE type = 'safety.heartbeat'").first?[0] } == Int64(0))
        #expect(try reopened.loadArrivals().count == 5)
    }

    @Test(arguments: StoreBackend.allCases) func whoSentWhoWasLateWhoIsMissing(backend: StoreBackend) async throws {
        let directory = try TestDirectory()
        let model = try Self.model(directory, backend)
        try await Self.apply(model)
        let now = Self.time("2025-12-01T00:00:00Z")
        for round in 0..<2 {
            // The second round: a new model on the same file (a restart) answers the same.
            let asked = round == 0 ? model : try Self.model(directory, backend)
            let answer = await asked.completeness(year: 2025, type: nil, now: now)
            let census = try feed(answer, "preschool.census")
            #expect(census["expected"] == 4 && census["sent"] == 3 && census["late"] == 1 && census["on_time"] == 2 && census["missing"] == 1)
            #expect(census["reporting_rate"] == 75 && census["on_time_rate"] == 50)
            #expect(census["due"] == "2025-09-30T15:59:59.999Z" && census["overdue"] == true && census["title_zh"] == "幼儿园普查")
            let towns = census["towns"]?.arrayValue ?? []
            #expect(towns.map { $0["town_id"] } == ["t1", "t2"])
            #expect(towns[0]["sent"] == 2 && towns[0]["late"] == 1 && towns[0]["reporting_rate"] == 100 && towns[0]["on_time_rate"] == 50)
            #expect(towns[0]["late_institutions"]?.arrayValue?.map { $0["institution_id"] } == ["kg-b"])
            #expect(towns[0]["late_institutions"]?.arrayValue?.first?["first_received_at"] == "2025-10-02T02:00:00.000Z")
            #expect(towns[1]["missing_institutions"]?.arrayValue?.map { $0["institution_id"] } == ["kg-c"])
            #expect(towns[1]["missing_institutions"]?.arrayValue?.first?["name"] == "园 kg-c")
            #expect(towns[1]["reporting_rate"] == 50)
            let inventory = try feed(answer, "safety.inventory")
            #expect(inventory["sent"] == 2 && inventory["late"] == 1 && inventory["missing"] == 2 && inventory["yearly"] == false)
            let compulsory = try feed(answer, "compulsory.census")
            #expect(compulsory["expected"] == 1 && compulsory["missing"] == 1 && compulsory["reporting_rate"] == 0)
            // Before the due date nothing is overdue yet.
            let early = await asked.completeness(year: 2025, type: .preschoolCensus, now: Self.time("2025-09-01T00:00:00Z"))
            #expect(early["feeds"]?.arrayValue?.count == 1 && early["feeds"]?[0]?["overdue"] == false)
            // Another year: nothing sent.
            let next = try feed(await asked.completeness(year: 2026, type: nil, now: now), "preschool.census")
            #expect(next["sent"] == 0 && next["missing"] == 4)
        }
    }

    /// A missing census reads as missing beside the value it would change, not as zero.
    @Test func theReadinessReportNamesTheMissingReports() async throws {
        let directory = try TestDirectory()
        let model = try Self.model(directory)
        try await Self.apply(model)
        let readiness = await model.readiness(year: 2025, catalogs: ["national-2020"], limit: 5)
        let criteria = readiness["catalogs"]?[0]?["criteria"]?.arrayValue ?? []
        let enrolment = try #require(criteria.first { $0["id"] == "national.gross_enrollment_rate" })
        #expect(enrolment["missing_reports"] == [["type": "preschool.census", "title_zh": "幼儿园普查", "missing": 1]])
        let recognition = try #require(criteria.first { $0["id"] == "national.social_recognition" })
        #expect(recognition["missing_reports"] == [])
    }

    /// The queued events (id → frame), oldest first.
    static func outbox(_ directory: TestDirectory, _ backend: StoreBackend = .sqlite) throws -> [(id: String, frame: JSONValue)] {
        let store = try IndicatorsStore(location: backend.location("indicators", in: directory), logger: Logger(label: "test"))
        return try store.database.read { db in
            try db.rows("SELECT frame_id, frame FROM outbox ORDER BY seq").map { row in
                let text: String = row[1]
                return (row[0], try JSONParser.parse(text))
            }
        }
    }

    /// 2025-09-20 is within the census's 14 days before 09-30: t2 (kg-c missing) is reminded;
    /// the inventories were due 03-31: t1 (kg-b) and t2 (kg-d) are overdue; the compulsory
    /// census (due 10-31, reminded 7 days before) is not yet reminded. After 09-30 t2's census
    /// reminder becomes an overdue alert on the same key; kg-c's census ends it; a check again,
    /// or after a restart, raises nothing more.
    @Test(arguments: StoreBackend.allCases) func remindersBeforeTheDueDateAlertsAfterAndTheEndWhenComplete(backend: StoreBackend) async throws {
        let directory = try TestDirectory()
        let model = try Self.model(directory, backend)
        try await Self.apply(model)
        let before = Set(try Self.outbox(directory, backend).map(\.id))
        #expect(try await model.checkReporting(now: Self.time("2025-09-10T00:00:00+08:00")) == 2, "only the overdue inventories")
        #expect(try await model.checkReporting(now: Self.time("2025-09-20T00:00:00+08:00")) == 1)
        #expect(try await model.checkReporting(now: Self.time("2025-09-21T00:00:00+08:00")) == 0)
        var events = try Self.outbox(directory, backend).filter { !before.contains($0.id) }
        let t0910 = Self.time("2025-09-10T00:00:00+08:00").millis
        let t0920 = Self.time("2025-09-20T00:00:00+08:00").millis
        #expect(events.map(\.id) == [
            "data:overdue:safety.inventory:2025:t1:\(t0910)", "data:overdue:safety.inventory:2025:t2:\(t0910)",
            "data:due_soon:preschool.census:2025:t2:\(t0920)",
        ])
        let reminder = try #require(events.last?.frame)
        #expect(reminder["type"] == "data.due_soon" && reminder["body"]?["severity"] == "info" && reminder["body"]?["status"] == "firing")
        #expect(reminder["body"]?["alert_key"] == "data:preschool.census:2025:t2" && reminder["body"]?["scope"] == "town:t2")
        #expect(reminder["body"]?["summary"] == "镇 t2 幼儿园普查（2025年）将于 2025-09-30 截止，尚有 1 所未报送：园 kg-c")
        #expect(reminder["body"]?["details"]?["missing_institutions"] == ["kg-c"])

        #expect(try await model.checkReporting(now: Self.time("2025-10-01T00:00:00+08:00")) == 1)
        events = try Self.outbox(directory, backend).filter { !before.contains($0.id) }
        let overdue = try #require(events.last?.frame)
        #expect(overdue["type"] == "data.overdue" && overdue["body"]?["severity"] == "warning")
        #expect(overdue["body"]?["alert_key"] == "data:preschool.census:2025:t2")
        #expect(overdue["body"]?["summary"] == "镇 t2 幼儿园普查（2025年）已逾期（截止 2025-09-30），尚有 1 所未报送：园 kg-c")

        // kg-c's census arrives (late): the alert ends.
        let census = EvaluationFixture.census("kg-c", 2025, [("s1", "small", 20, 2, 1)], teachers: 2, caregivers: 1, staff: 3, certified: 2)
        var record = LogRecord(seq: 100, type: census.0, key: "kg-c|2025", body: census.1, asOf: Self.time("2025-10-05T00:00:00Z"))
        record.receivedAt = Self.time("2025-10-05T00:00:00Z")
        try await model.apply([record])
        let restarted = try Self.model(directory, backend)
        #expect(try await restarted.checkReporting(now: Self.time("2025-10-06T00:00:00+08:00")) == 1)
        events = try Self.outbox(directory, backend).filter { !before.contains($0.id) }
        let complete = try #require(events.last?.frame)
        #expect(complete["type"] == "data.complete" && complete["body"]?["status"] == "resolved")
        #expect(complete["body"]?["alert_key"] == "data:preschool.census:2025:t2")
        #expect(complete["body"]?["summary"] == "镇 t2 幼儿园普查（2025年）已全部报送（2 所）")
        #expect(try await restarted.checkReporting(now: Self.time("2025-10-07T00:00:00+08:00")) == 0)
        #expect(try await Self.model(directory, backend).checkReporting(now: Self.time("2025-10-08T00:00:00+08:00")) == 0)

        // A kindergarten registered later in t2 owes its census too: a second episode, a new event.
        let registered = EvaluationFixture.institution("kg-e", town: "t2")
        var registration = LogRecord(seq: 101, type: registered.0, key: "kg-e", body: registered.1, asOf: Self.time("2025-10-08T00:00:00Z"))
        registration.receivedAt = Self.time("2025-10-08T00:00:00Z")
        let reopened = try Self.model(directory, backend)
        try await reopened.apply([registration])
        let t1009 = Self.time("2025-10-09T00:00:00+08:00")
        // Only the census: t2's inventories are overdue already (kg-d's), that alert goes on.
        #expect(try await reopened.checkReporting(now: t1009) == 1)
        events = try Self.outbox(directory, backend).filter { !before.contains($0.id) }
        #expect(events.contains { $0.id == "data:overdue:preschool.census:2025:t2:\(t1009.millis)" })
    }

    @Test func aBadScheduleIsRefusedNamingTheMember() throws {
        for (text, message) in [
            (#"{"feeds": [{"type": "preschool.census", "levels": ["kindergarten"], "yearly": true, "due": "02-30"}]}"#, "feeds[0].due"),
            (#"{"feeds": [{"type": "registry.town", "levels": ["kindergarten"], "yearly": true, "due": "09-30"}]}"#, "feeds[0].type"),
            (#"{"feeds": [{"type": "preschool.census", "levels": ["creche"], "yearly": true, "due": "09-30"}]}"#, "feeds[0].levels"),
            (#"{"feeds": [{"type": "preschool.census", "levels": ["kindergarten"], "yearly": true, "due": "09-30", "colour": 1}]}"#, "feeds[0].colour"),
            (#"{"feeds": [{"type": "preschool.census", "levels": ["kindergarten"], "yearly": true, "due": "09-30", "due_by_year": {"2025": "2024-12-01"}}]}"#, "feeds[0].due_by_year.2025"),
        ] {
            do {
                _ = try ReportingSchedule.parse(try JSONParser.parse(text), file: "r.json")
                Issue.record("accepted: \(text)")
            } catch let error as ReportingFileError {
                #expect(error.description.hasPrefix("r.json: \(message)"), "\(error)")
            }
        }
        let moved = try ReportingSchedule.parse(
            try JSONParser.parse(#"{"feeds": [{"type": "preschool.census", "levels": ["kindergarten"], "yearly": true, "due": "09-30", "due_by_year": {"2025": "2025-10-15"}}]}"#),
            file: "r.json")
        #expect(moved.feeds[0].dueDate(year: 2025) == Self.time("2025-10-15T23:59:59.999+08:00"))
        #expect(moved.feeds[0].dueDate(year: 2026) == Self.time("2026-09-30T23:59:59.999+08:00"))
    }
}
