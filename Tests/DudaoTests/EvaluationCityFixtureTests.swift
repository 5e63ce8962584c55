import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import Testing

/// A small hand-computed city used by the indicator tests.
///
/// Towns t1, t2 (a street), t3. Kindergartens: kg-a (t1, public, central), kg-b (t1, inclusive
/// private), kg-c (t2, private), kg-d (t2, public, central), kg-e (t3, public, not central; sends
/// nothing). Schools: ps-a (t1 primary public), js-b (t2 junior private), sp-c (t2 special).
///
/// 2025 preschool census (children / full-time teachers / caregivers / staff / certified):
///   kg-a 91 / 7 / 3 / 13 / 7   classes s1 small 25 (2,1), m1 middle 31 (2,1), l1 large 35 (2,0)
///   kg-b 59 / 4 / 2 /  8 / 3   classes x1 mixed 30 (1,1), s1 small 29 (2,1)
///   kg-c 66 / 4 / 2 /  9 / 4   classes m1 middle 30 (2,1), l1 large 36 (2,1)
///   kg-d 40 / 4 / 2 /  8 / 4   classes s1 small 20 (2,1), m1 middle 20 (2,1)
/// Population 2025: t1 150, t2 100, t3 60.
enum CityFixture {
    static let now = Timestamp(rfc3339: "2025-10-01T08:00:00Z")!

    static func seconds(_ s: Int64) -> Timestamp { Timestamp(millis: now.millis - s * 1000) }

    typealias F = EvaluationFixture

    static var registry: [(FeedType, JSONObject)] {
        [
            F.town("t1"), F.town("t2", kind: "street"), F.town("t3"),
            F.institution("kg-a", town: "t1", central: true),
            F.institution("kg-b", town: "t1", ownership: "inclusive_private"),
            F.institution("kg-c", town: "t2", ownership: "private"),
            F.institution("kg-d", town: "t2", central: true),
            F.institution("kg-e", town: "t3"),
            F.institution("ps-a", town: "t1", level: "primary"),
            F.institution("js-b", town: "t2", level: "junior", ownership: "private"),
            F.institution("sp-c", town: "t2", level: "special"),
        ]
    }

    static let kgA2025 = F.census(
        "kg-a", 2025, [("s1", "small", 25, 2, 1), ("m1", "middle", 31, 2, 1), ("l1", "large", 35, 2, 0)],
        teachers: 7, caregivers: 3, staff: 13, certified: 7, disabled: 5)

    static var data: [(FeedType, JSONObject)] {
        [
            F.cohort("t1", 2025, 40, 50, 60), F.cohort("t2", 2025, 30, 30, 40), F.cohort("t3", 2025, 20, 20, 20),
            kgA2025,
            F.census(
                "kg-b", 2025, [("x1", "mixed", 30, 1, 1), ("s1", "small", 29, 2, 1)], teachers: 4, caregivers: 2, staff: 8,
                certified: 3),
            F.census(
                "kg-c", 2025, [("m1", "middle", 30, 2, 1), ("l1", "large", 36, 2, 1)], teachers: 4, caregivers: 2, staff: 9,
                certified: 4, disabled: 4),
            F.census(
                "kg-d", 2025, [("s1", "small", 20, 2, 1), ("m1", "middle", 20, 2, 1)], teachers: 4, caregivers: 2, staff: 8,
                certified: 4),
            F.census("kg-d", 2026, [("s1", "small", 31, 2, 1)], teachers: 2, caregivers: 1, staff: 4, certified: 2),
            F.compulsory("ps-a", 2025, students: 600, migrants: 100, classes: [("1a", 1, 56), ("1b", 1, 55)]),
            F.compulsory("js-b", 2025, students: 50, migrants: 20, classes: [("7a", 7, 57)]),
            F.compulsory("sp-c", 2025, students: 40, migrants: 5, classes: [("s1", 3, 60)]),
            (.compulsoryRetention, ["year": 2025, "grade9_students": 96, "cohort_entrants": 100]),
            (.compulsoryRetention, ["year": 2023, "grade9_students": 90, "cohort_entrants": 100]),
            (
                .specialPopulation,
                ["year": 2025, "disabled_school_age": 100, "enrolled": 97, "home_delivered": 10, "disabled_preschool_age_certified": 10]
            ),
            (
                .financeYear,
                [
                    "year": 2025, "preschool_fiscal_wan": 256, "education_fiscal_wan": 5120, "public_kg_per_pupil_yuan": 500,
                    "inclusive_private_subsidy_yuan": 600,
                ]
            ),
            (.surveyRecognition, ["year": 2025, "respondents": 200, "satisfied": 170]),
            (
                .talentYear,
                ["year": 2025, "county_famous_teachers": 60, "city_excellent_teachers": 9, "studios": ["provincial": 1, "city": 7, "county": 20]]
            ),
            F.project("p1", kind: "kindergarten", delivered: 300, status: "done"),
            F.project("p2", kind: "kindergarten", delivered: 0, status: "building"),
            F.project("p3", kind: "primary", delivered: 500, status: "done"),
            F.project("p4", kind: "junior", delivered: 200, status: "done"),
            F.project("p5", kind: "primary", delivered: 0, status: "planned"),
            F.inventory("kg-a", devices: ["dev-a1", "dev-a2"], linked: true, closed: true, required: 2, guards: 2),
            F.inventory("kg-b", devices: [], linked: false, closed: true, required: 0, guards: 1),
            F.inventory("kg-c", devices: ["dev-c1"], linked: true, closed: false, required: 0, guards: 0),
            F.inventory("kg-d", devices: ["dev-d1"], linked: true, closed: true, required: 3, guards: 2),
            F.inventory("ps-a", devices: ["dev-p1"], linked: true, closed: true, required: 1, guards: 1),
            F.heartbeat("dev-a1", "kg-a", at: seconds(60)),
            F.heartbeat("dev-a2", "kg-a", at: seconds(10), ok: false),
            F.heartbeat("dev-c1", "kg-c", at: seconds(181)),
            F.heartbeat("dev-d1", "kg-d", at: seconds(180)),
            F.heartbeat("dev-p1", "ps-a", at: now),
        ]
    }

    static var records: [(FeedType, JSONObject)] { registry + data }

    static let institutions = ["kg-a", "kg-b", "kg-c", "kg-d", "kg-e", "ps-a", "js-b", "sp-c"]

    static func engine() throws -> IndicatorEngine { try EvaluationFixture.engine(records) }
}

/// One expected result.
struct Expected: CustomTestStringConvertible {
    var id: String
    var scope: Scope
    var value: Double?
    var status: String
    var numerator: Double?
    var denominator: Double?
    var target: Double?
    var year = 2025

    init(
        _ id: String, _ scope: Scope, _ value: Double?, _ status: String, num numerator: Double? = nil,
        den denominator: Double? = nil, target: Double? = nil, year: Int = 2025
    ) {
        self.id = id
        self.scope = scope
        self.value = value
        self.status = status
        self.numerator = numerator
        self.denominator = denominator
        self.target = target
        self.year = year
    }

    var testDescription: String { "\(id) \(year) \(scope.text)" }

    /// Checks `engine`'s result against this expectation (numerator/denominator/target when given).
    func check(_ engine: IndicatorEngine, now: Timestamp = CityFixture.now) {
        guard let result = engine.evaluate(indicator: id, year: year, scope: scope, now: now) else {
            Issue.record("\(testDescription): no result")
            return
        }
        #expect(result.value == value, "\(testDescription) value")
        #expect(result.status.rawValue == status, "\(testDescription) status")
        if let numerator { #expect(result.numerator == numerator, "\(testDescription) numerator") }
        if let denominator { #expect(result.denominator == denominator, "\(testDescription) denominator") }
        if let target { #expect(result.target == target, "\(testDescription) target") }
    }
}
