import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import Testing

/// Edge cases: zero denominators, the previous-year target, carried-forward targets.
@Suite struct EvaluationBoundaryTests {
    typealias F = EvaluationFixture
    let now = CityFixture.now

    static func finance(_ year: Int64, _ fiscal: Double) -> (FeedType, JSONObject) {
        (
            .financeYear,
            [
                "year": .int(year), "preschool_fiscal_wan": .double(fiscal), "education_fiscal_wan": 100000,
                "public_kg_per_pupil_yuan": 500, "inclusive_private_subsidy_yuan": 500,
            ]
        )
    }

    func spending(_ fiscal2025: Double) throws -> IndicatorEngine {
        // 200 children in 2024, 250 in 2025
        try F.engine([
            F.town("t1"), F.institution("kg-1", town: "t1"),
            F.census("kg-1", 2024, [("a", "large", 100, 2, 1), ("b", "large", 100, 2, 1)], teachers: 8, caregivers: 2, staff: 12, certified: 8),
            F.census("kg-1", 2025, [("a", "large", 125, 2, 1), ("b", "large", 125, 2, 1)], teachers: 8, caregivers: 2, staff: 12, certified: 8),
            Self.finance(2024, 100), Self.finance(2025, fiscal2025),
        ])
    }

    @Test func spendingPerChildMustNotFall() throws {
        // 2024: 100 万元 × 10000 / 200 = 5000 元; the margin is 20 元
        let id = "finance.preschool_spend_per_child"
        Expected(id, .city, 5200, "met", num: 130, den: 250, target: 5000).check(try spending(130))
        Expected(id, .city, 5000, "at_risk", target: 5000).check(try spending(125))  // the same as last year
        Expected(id, .city, 5020, "met", target: 5000).check(try spending(125.5))  // exactly target + margin
        Expected(id, .city, 4800, "not_met", target: 5000).check(try spending(120))
        // without the previous year: no data, even though the value can be computed
        Expected(id, .city, nil, "no_data", num: 100, den: 200, year: 2024).check(try spending(130))
        let result = try #require(try spending(130).evaluate(indicator: id, year: 2024, scope: .city, now: now))
        #expect(result.target == nil)
        // 2026 has no census and no finance: no data, and its target is 2025's value
        Expected(id, .city, nil, "no_data", year: 2026).check(try spending(130))
    }

    @Test func zeroDenominatorsGiveNoData() throws {
        let engine = try F.engine([
            F.town("z"), F.institution("kg-z", town: "z"),
            F.census("kg-z", 2025, [], teachers: 0, caregivers: 0, staff: 0, certified: 0),
            F.cohort("z", 2025, 0, 0, 0),
            (.surveyRecognition, ["year": 2025, "respondents": 0, "satisfied": 0]),
            (
                .specialPopulation,
                ["year": 2025, "disabled_school_age": 0, "enrolled": 0, "home_delivered": 0, "disabled_preschool_age_certified": 0]
            ),
        ])
        let kg = Scope.institution("kg-z")
        for (id, scope) in [
            ("preschool.children_per_teacher", kg), ("preschool.children_per_teacher", .town("z")),
            ("preschool.class_size_compliance", kg), ("preschool.certified_teacher_rate", .city),
            ("preschool.gross_enrollment_rate", .city), ("preschool.inclusive_coverage", .city),
            ("preschool.social_recognition", .city), ("special.enrollment_rate", .city),
            ("preschool.disabled_enrollment_rate", .city),
        ] {
            Expected(id, scope, nil, "no_data", num: 0, den: 0).check(engine)
        }
        // the registered kindergarten with no inventory: 0 of 1, not "no data"
        Expected("safety.closed_management_rate", .town("z"), 0, "not_met", num: 0, den: 1).check(engine)
        // a town with no institution at all: nothing to count
        let empty = try F.engine([F.town("y")])
        Expected("safety.closed_management_rate", .town("y"), nil, "no_data").check(empty)
        #expect(empty.evaluate(indicator: "safety.closed_management_rate", year: 2025, scope: .town("y"), now: now)?.denominator == nil)
        Expected("preschool.town_central_coverage", .city, 0, "not_met", num: 0, den: 1).check(empty)
        // nothing at all
        let nothing = try F.engine([])
        #expect(nothing.evaluate(year: 2025, scope: .city, now: now).allSatisfy { $0.status == .noData && $0.value == nil })
        #expect(nothing.towns.isEmpty)
    }

    @Test func targetsCarryForwardAndStartTracked() throws {
        let engine = try F.engine([
            F.town("t1"), F.institution("kg-1", town: "t1"),
            (.compulsoryRetention, ["year": 2023, "grade9_students": 95, "cohort_entrants": 100]),
            (.compulsoryRetention, ["year": 2026, "grade9_students": 99, "cohort_entrants": 100]),
            (.talentYear, ["year": 2022, "county_famous_teachers": 1, "city_excellent_teachers": 1, "studios": ["provincial": 0, "city": 0, "county": 0]]),
            (.talentYear, ["year": 2030, "county_famous_teachers": 59, "city_excellent_teachers": 10, "studios": ["provincial": 1, "city": 6, "county": 19]]),
        ])
        Expected("compulsory.retention_rate", .city, 95, "tracked", year: 2023).check(engine)
        Expected("compulsory.retention_rate", .city, 99, "met", target: 96, year: 2026).check(engine)
        Expected("talent.county_famous_teachers", .city, 1, "tracked", year: 2022).check(engine)
        Expected("talent.county_famous_teachers", .city, 59, "not_met", target: 60, year: 2030).check(engine)
        Expected("talent.studios_county", .city, 19, "not_met", target: 20, year: 2030).check(engine)
        Expected("talent.studios_city", .city, 6, "met", target: 6, year: 2030).check(engine)
    }

    @Test func aRecordOfAnUnregisteredInstitutionWaitsForItsRegistration() throws {
        let census = F.census("kg-late", 2025, [("a", "small", 20, 2, 1)], teachers: 2, caregivers: 1, staff: 3, certified: 2)
        let engine = try F.engine([F.town("t1"), census])
        Expected("preschool.children_per_teacher", .city, nil, "no_data").check(engine)
        let registration = F.institution("kg-late", town: "t1")
        let affected = engine.apply(type: registration.0, key: "kg-late", body: registration.1)
        #expect(affected.contains(AffectedKey(indicator: "preschool.children_per_teacher", year: 2025, scope: .institution("kg-late"))))
        Expected("preschool.children_per_teacher", .city, 10, "met", num: 20, den: 2).check(engine)
        Expected("preschool.children_per_teacher", .institution("kg-late"), 10, "met").check(engine)
    }
}
