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

/// The forecast on the hand-computed city of `CityFixture`: 2025 has 256 children in
/// kindergartens (131 public, 190 public or inclusive) of 310 resident children; the one
/// kindergarten project not done, p2, owes 500 places (due 2024-08-31, building); p5 (primary,
/// planned, due 2024-08-31) is behind too. 2026 has no cohorts yet: the 2025 ones stand.
///
/// - gross enrolment 2026: (256 + 500) / 310 = 243.87 % if p2 opens, 256 / 310 = 82.58 % if not:
///   met against the plan's 100 % and the national 85 % only with the project;
/// - public share: (131 + 500) / (256 + 500) = 83.47 %, without 51.17 % (at risk of 50 %);
/// - inclusive coverage: (190 + 500) / 756 = 91.27 %, without 74.22 % (not the national 80 %).
@Suite struct ForecastTests {
    static let now = Timestamp(rfc3339: "2026-12-01T00:00:00+08:00")!

    static func model(_ directory: TestDirectory, _ backend: StoreBackend = .sqlite) async throws -> IndicatorsModel {
        let store = try IndicatorsStore(location: backend.location("indicators", in: directory), logger: Logger(label: "test"))
        let model = try IndicatorsModel(
            catalog: EvaluationNationalTests.both, store: store, currentYear: 2025, logger: Logger(label: "test"))
        var batch: [LogRecord] = []
        for (index, (type, body)) in CityFixture.records.enumerated() {
            var record = LogRecord(seq: Int64(index + 1), type: type, key: try EvaluationFixture.key(type, body), body: body, asOf: CityFixture.now)
            record.receivedAt = CityFixture.now
            batch.append(record)
        }
        try await model.apply(batch)
        return model
    }

    @Test func theEnrolmentIndicatorsIfThePlacesOpenAsDue() async throws {
        let directory = try TestDirectory()
        let model = try await Self.model(directory)
        let forecast = await model.forecast(year: 2026, now: Self.now)
        #expect(forecast["base_year"] == 2025 && forecast["seats_pending"] == 500 && forecast["cohort"] == .null)
        #expect(forecast["projects_pending"]?.arrayValue?.map { $0["project_id"] } == ["p2"])
        #expect(forecast["projects_behind"]?.arrayValue?.map { $0["project_id"] } == ["p2", "p5"])
        let rows = forecast["indicators"]?.arrayValue ?? []
        func row(_ id: String) throws -> JSONValue { try #require(rows.first { $0["id"] == .string(id) }) }
        #expect(rows.count == 6, "three indicators in each catalog declare a forecast")
        for id in ["preschool.gross_enrollment_rate", "national.gross_enrollment_rate"] {
            let gross = try row(id)
            #expect(gross["projected"]?.doubleValue == 75600.0 / 310 && gross["projected_status"] == "met", "\(gross)")
            #expect(gross["without_projects"]?.doubleValue == 25600.0 / 310 && gross["without_projects_status"] == "not_met")
            #expect(gross["base_status"] == "not_met" && gross["projected_numerator"] == 756 && gross["projected_denominator"] == 310)
        }
        let share = try row("national.public_share")
        #expect(share["projected"]?.doubleValue == 63100.0 / 756 && share["projected_status"] == "met")
        #expect(share["without_projects"]?.doubleValue == 13100.0 / 256 && share["without_projects_status"] == "at_risk")
        let inclusive = try row("national.inclusive_coverage")
        #expect(inclusive["projected"]?.doubleValue == 69000.0 / 756 && inclusive["projected_status"] == "met" && inclusive["target"] == 80)
        #expect(inclusive["without_projects_status"] == "not_met")
    }

    /// Projects behind schedule raise one alert each for the departments that build; done, it ends.
    @Test(arguments: StoreBackend.allCases) func aProjectBehindScheduleIsAlertedOnceAndEndsWhenDone(backend: StoreBackend) async throws {
        let directory = try TestDirectory()
        let model = try await Self.model(directory, backend)
        let store = try IndicatorsStore(location: backend.location("indicators", in: directory), logger: Logger(label: "test"))
        func queued() throws -> [String: JSONValue] {
            try store.database.read { db in
                var frames: [String: JSONValue] = [:]
                for row in try db.rows("SELECT frame_id, frame FROM outbox WHERE frame_id LIKE 'project:%'") {
                    let text: String = row[1]
                    frames[row[0]] = try JSONParser.parse(text)
                }
                return frames
            }
        }
        #expect(try await model.checkReporting(now: Self.now) == 2)
        #expect(try await model.checkReporting(now: Self.now) == 0)
        let behind = try queued()
        #expect(Set(behind.keys) == ["project:behind:p2:2024-08-31", "project:behind:p5:2024-08-31"])
        let p2 = try #require(behind["project:behind:p2:2024-08-31"])
        #expect(p2["type"] == "project.behind" && p2["body"]?["severity"] == "warning" && p2["body"]?["alert_key"] == "project:p2")
        #expect(p2["body"]?["summary"] == "项目 p2 已超过完工日期 2024-08-31，状态 在建，已交付学位 0/500")
        var done = EvaluationFixture.project("p2", kind: "kindergarten", delivered: 500, status: "done")
        done.1["as_of"] = "2026-11-30T00:00:00+08:00"
        var record = LogRecord(seq: 1000, type: done.0, key: "p2", body: done.1, asOf: Self.now)
        record.receivedAt = Self.now
        try await model.apply([record])
        #expect(try await model.checkReporting(now: Self.now) == 1)
        let ended = try #require(try queued().first { $0.key.hasPrefix("project:done:p2:") }?.value)
        #expect(ended["type"] == "project.done" && ended["body"]?["status"] == "resolved" && ended["body"]?["alert_key"] == "project:p2")
        #expect(try await model.checkReporting(now: Self.now) == 0)
    }
}
