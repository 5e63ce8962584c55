import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import Foundation
import Testing

/// The national assessment catalog (`deploy/catalog/national-2020.json`) loaded beside the plan's,
/// evaluated on the hand-computed city of `CityFixture` (2025):
///
/// - children 91 + 59 + 66 + 40 = 256; population 150 + 100 + 60 = 310;
/// - public kindergartens kg-a 91, kg-d 40; inclusive private kg-b 59; private kg-c 66;
/// - full-time teachers 7 + 4 + 4 + 4 = 19, certified 7 + 3 + 4 + 4 = 18;
/// - classes within the size limit: 6 of 9 (kg-a m1 31 > 30, kg-b s1 29 > 25, kg-c l1 36 > 35);
/// - towns with a public central kindergarten: t1 (kg-a), t2 (kg-d), not t3: 2 of 3;
/// - survey 170 of 200.
@Suite struct EvaluationNationalTests {
    static let nationalPath = EvaluationFixture.repoRoot + "/deploy/catalog/national-2020.json"

    static let both: Catalog = {
        do { return try Catalog.load(paths: [EvaluationFixture.catalogPath, nationalPath]) } catch { fatalError("catalogs: \(error)") }
    }()

    static let ids = [
        "national.gross_enrollment_rate", "national.inclusive_coverage", "national.public_share", "national.town_central_coverage",
        "national.public_funds_per_pupil", "national.inclusive_private_subsidy", "national.children_per_teacher",
        "national.certified_teacher_rate", "national.class_size_compliance", "national.outdoor_space_compliance",
        "national.activity_room_compliance", "national.building_area_compliance", "national.social_recognition",
    ]

    @Test func bothCatalogsLoadSideBySideEachIndicatorNamingItsCatalog() {
        let catalog = Self.both
        #expect(catalog.names == ["enping-2023-2025", "national-2020"])
        #expect(catalog.name == "enping-2023-2025")
        #expect(catalog.indicators(of: "national-2020").map(\.id) == Self.ids)
        #expect(catalog.indicators(of: "enping-2023-2025").map(\.id) == EvaluationFixture.catalog.indicators.map(\.id))
    }

    static let expected: [Expected] = [
        Expected("national.gross_enrollment_rate", .city, 256.0 / 310 * 100, "not_met", num: 256, den: 310, target: 85),
        Expected("national.gross_enrollment_rate", .town("t1"), 100, "met", num: 150, den: 150),
        Expected("national.gross_enrollment_rate", .town("t2"), 106, "met", num: 106, den: 100),
        Expected("national.inclusive_coverage", .city, 190.0 / 256 * 100, "not_met", num: 190, den: 256, target: 80),
        // 51.17 % is above 50 but within the 2-point margin.
        Expected("national.public_share", .city, 131.0 / 256 * 100, "at_risk", num: 131, den: 256, target: 50),
        Expected("national.town_central_coverage", .city, 200.0 / 3, "not_met", num: 2, den: 3, target: 100),
        Expected("national.public_funds_per_pupil", .city, 500, "tracked"),
        Expected("national.inclusive_private_subsidy", .city, 600, "tracked"),
        Expected("national.children_per_teacher", .city, 256.0 / 19, "met", num: 256, den: 19, target: 15),
        Expected("national.children_per_teacher", .institution("kg-a"), 13, "met"),
        // 14.75 is within 0.5 of 15; 16.5 is over.
        Expected("national.children_per_teacher", .institution("kg-b"), 14.75, "at_risk"),
        Expected("national.children_per_teacher", .institution("kg-c"), 16.5, "not_met"),
        Expected("national.certified_teacher_rate", .city, 1800.0 / 19, "not_met", num: 18, den: 19, target: 100),
        Expected("national.class_size_compliance", .city, 600.0 / 9, "not_met", num: 6, den: 9, target: 85),
        Expected("national.class_size_compliance", .institution("kg-d"), 100, "met", num: 2, den: 2),
        // Exactly the target: met, but within the margin.
        Expected("national.social_recognition", .city, 85, "at_risk", num: 170, den: 200, target: 85),
    ]

    @Test(arguments: expected)
    func aNationalCriterion(_ expected: Expected) throws {
        let engine = try EvaluationFixture.engine(CityFixture.records, catalog: Self.both)
        expected.check(engine)
    }

    /// A query names its catalog; none means the plan's, so the plan's results are as before.
    @Test func evaluatingByCatalog() throws {
        let engine = try EvaluationFixture.engine(CityFixture.records, catalog: Self.both)
        let plan = engine.evaluate(year: 2025, scope: .city, now: CityFixture.now)
        #expect(plan.allSatisfy { $0.catalog == "enping-2023-2025" })
        #expect(plan.map(\.id) == EvaluationFixture.catalog.indicators.filter { $0.scopes.contains(.city) }.map(\.id))
        let national = engine.evaluate(year: 2025, scope: .city, now: CityFixture.now, catalog: "national-2020")
        #expect(national.map(\.id) == Self.ids)
        #expect(national.allSatisfy { $0.json["catalog"] == "national-2020" })
        // The same figures as the plan's indicator of the same formula, judged against another target.
        let planRate = try #require(plan.first { $0.id == "preschool.gross_enrollment_rate" })
        let nationalRate = try #require(national.first { $0.id == "national.gross_enrollment_rate" })
        #expect(planRate.value == nationalRate.value && planRate.target == 100 && nationalRate.target == 85)
    }

    /// The gap of each missed criterion, in things to do, worked out by hand:
    /// 85 % of 310 children is 263.5, 256 enrolled: 8 more; 80 % of 256 is 204.8, 190 inclusive:
    /// 15 places turned inclusive; 3 towns, 2 with a central kindergarten: 1; kg-c's 66 children
    /// need 66 / 15 = 4.4 teachers, it has 4: 1 more; 19 teachers, 18 certified: 1; 85 % of 9
    /// classes is 7.65, 6 within the limit: 2; in t2 40 of 106 children are in public
    /// kindergartens: x new public places with (40 + x) / (106 + x) = 50 %: 26.
    @Test func aMissedCriterionTellsItsGap() throws {
        let engine = try EvaluationFixture.engine(CityFixture.records, catalog: Self.both)
        func gap(_ id: String, _ scope: Scope) throws -> Gap? {
            let result = try #require(engine.evaluate(indicator: id, year: 2025, scope: scope, now: CityFixture.now))
            return engine.gap(of: result)
        }
        #expect(try gap("national.gross_enrollment_rate", .city) == Gap(amount: 8, zh: "还需增加在园幼儿 8 人"))
        #expect(try gap("national.inclusive_coverage", .city) == Gap(amount: 15, zh: "还需将 15 个学位转为普惠性学位"))
        #expect(try gap("national.town_central_coverage", .city) == Gap(amount: 1, zh: "还需在 1 个镇（街）办好公办中心幼儿园"))
        #expect(try gap("national.children_per_teacher", .institution("kg-c")) == Gap(amount: 1, zh: "还需增加专任教师 1 名"))
        #expect(try gap("national.certified_teacher_rate", .city) == Gap(amount: 1, zh: "还需 1 名园长或专任教师取得资格证书"))
        #expect(try gap("national.class_size_compliance", .city) == Gap(amount: 2, zh: "还需 2 个班的班额降至标准以内"))
        #expect(try gap("national.public_share", .town("t2")) == Gap(amount: 26, zh: "还需增加公办学位 26 个"))
        // Met or at risk: no gap.
        #expect(try gap("national.public_share", .city) == nil)
        #expect(try gap("national.children_per_teacher", .city) == nil)
        // The plan's own target, 100 %: all 310 children, 54 more.
        #expect(try gap("preschool.gross_enrollment_rate", .city) == Gap(amount: 54, zh: "还需增加在园幼儿 54 人"))
    }

    /// The small city with these members added to kindergartens' 2025 census, by id.
    static func records(adding extra: [String: JSONObject]) -> [(FeedType, JSONObject)] {
        CityFixture.records.map { record in
            guard record.0 == .preschoolCensus, record.1["year"] == 2025, let id = record.1["institution_id"]?.stringValue,
                let members = extra[id]
            else { return record }
            var body = record.1
            for member in members { body[member.key] = member.value }
            return (record.0, body)
        }
    }

    /// Kindergartens meeting a standard per child, counted (not a ratio of sums), of those that
    /// report the area: kg-a 91 children, outdoor 400 m² (4.40 per child), activity rooms 150
    /// (1.65), building 900 (9.89); kg-b 59: 200 (3.39), 130 (2.20), 600 (10.17); kg-c 66: 264
    /// (4.00 exactly), no activity room figure, 500 (7.58); kg-d reports no area.
    @Test func perKindergartenStandardsCountKindergartens() throws {
        let areas: [String: JSONObject] = [
            "kg-a": ["outdoor_area_m2": 400, "activity_room_area_m2": 150, "building_area_m2": 900],
            "kg-b": ["outdoor_area_m2": 200, "activity_room_area_m2": 130, "building_area_m2": 600],
            "kg-c": ["outdoor_area_m2": 264, "building_area_m2": 500],
        ]
        let engine = try EvaluationFixture.engine(Self.records(adding: areas), catalog: Self.both)
        for expected in [
            Expected("national.outdoor_space_compliance", .city, 200.0 / 3, "not_met", num: 2, den: 3, target: 100),
            Expected("national.activity_room_compliance", .city, 50, "not_met", num: 1, den: 2),
            Expected("national.building_area_compliance", .city, 200.0 / 3, "not_met", num: 2, den: 3),
            Expected("national.outdoor_space_compliance", .institution("kg-c"), 100, "met", num: 1, den: 1),
            Expected("national.outdoor_space_compliance", .institution("kg-d"), nil, "no_data"),
            Expected("national.outdoor_space_compliance", .town("t1"), 50, "not_met", num: 1, den: 2),
        ] {
            expected.check(engine)
        }
        let outdoor = try #require(engine.evaluate(indicator: "national.outdoor_space_compliance", year: 2025, scope: .city, now: CityFixture.now))
        #expect(engine.gap(of: outdoor) == Gap(amount: 1, zh: "还需 1 所幼儿园的生均户外活动场地达到 4 平方米"))
        // The kindergarten that makes the gap, with the area it would need (59 children × 4 m²).
        let rows = engine.contributors(indicator: "national.outdoor_space_compliance", year: 2025, scope: .city, now: CityFixture.now, limit: 10)
        #expect(rows.compactMap { $0["institution_id"]?.stringValue } == ["kg-b"], "\(rows)")
        #expect(JSONWriter.string(.array(rows)).contains("236"), "\(JSONWriter.string(.array(rows)))")
    }

    /// Principals count with the teachers when a census gives them: kg-a adds a certified
    /// principal, kg-b one without the certificate: (18 + 1) / (19 + 2) = 90.48 %, 2 to go.
    @Test func principalsCountWhenTheCensusGivesThem() throws {
        let principals: [String: JSONObject] = ["kg-a": ["principals": 1, "certified_principals": 1], "kg-b": ["principals": 1, "certified_principals": 0]]
        let engine = try EvaluationFixture.engine(Self.records(adding: principals), catalog: Self.both)
        Expected("national.certified_teacher_rate", .city, 1900.0 / 21, "not_met", num: 19, den: 21).check(engine)
        let result = try #require(engine.evaluate(indicator: "national.certified_teacher_rate", year: 2025, scope: .city, now: CityFixture.now))
        #expect(engine.gap(of: result) == Gap(amount: 2, zh: "还需 2 名园长或专任教师取得资格证书"))
        // More certified principals than principals is refused at the field.
        var census = CityFixture.kgA2025.1
        census["principals"] = 1
        census["certified_principals"] = 2
        guard case .failure(let error) = FeedValidator.validate(.preschoolCensus, body: census) else {
            Issue.record("accepted more certified principals than principals")
            return
        }
        #expect(error.code == .invalidField && error.path == "body.certified_principals", "\(error)")
    }

    @Test func aPerChildConditionIsCheckedAtLoad() {
        let base = #"{"name": "p", "indicators": [{"id": "p.rate", "name_zh": "甲", "name_en": "a", "unit": "%", "op": ">=", "targets": {"2025": 50}, "scopes": ["city"], "clause": "1", "departments": ["education"], "formula": {"count": {"feed": "preschool.census", "where": [COND]}}}]}"#
        for (condition, message) in [
            (#"{"field": "outdoor_area_m2", "op": ">=", "per": "full_time_teachers", "value": 4}"#, "per must be a number of each item"),
            (#"{"field": "outdoor_area_m2", "op": ">=", "per": "classes[].level", "value": 4}"#, "only numbers can be summed"),
            (#"{"field": "outdoor_area_m2", "op": ">=", "per": "classes[].children", "value": 0}"#, "value must be > 0"),
            (#"{"field": "institution_id", "op": ">=", "per": "classes[].children", "value": 4}"#, "needs a number field"),
        ] {
            do {
                _ = try Catalog.parse(Array(base.replacingOccurrences(of: "COND", with: condition).utf8), name: "p.json")
                Issue.record("\(condition) was accepted")
            } catch {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
    }

    @Test func aGapRuleIsCheckedAtLoad() {
        let base = #"{"name": "g", "indicators": [{"id": "g.rate", "name_zh": "甲", "name_en": "a", "unit": "%", "op": ">=", "targets": {"2025": 50}, "scopes": ["city"], "clause": "1", "departments": ["education"], GAP "formula": {"ratio": {"numerator": {"sum": {"feed": "survey.recognition", "field": "satisfied"}}, "denominator": {"sum": {"feed": "survey.recognition", "field": "respondents"}}}, "factor": 100}}]}"#
        for (gap, message) in [
            (#""gap": {"solve": "sideways", "zh": "{n}"},"#, "gap.solve must be one of numerator, numerator_within, denominator, value"),
            (#""gap": {"solve": "value", "zh": "{n}"},"#, "gap.solve value is for a single figure"),
            (#""gap": {"solve": "numerator", "zh": "还差"},"#, "gap.zh must say where the amount goes with {n}"),
            (#""gap": {"solve": "numerator", "zh": "{n}", "unit": "人"},"#, "unit"),
        ] {
            do {
                _ = try Catalog.parse(Array(base.replacingOccurrences(of: "GAP", with: gap).utf8), name: "g.json")
                Issue.record("\(gap) was accepted")
            } catch {
                #expect(error.message.contains(message) && error.indicator == "g.rate", "\(error.message)")
            }
        }
        #expect(throws: Never.self) { try Catalog.parse(Array(base.replacingOccurrences(of: "GAP", with: "").utf8), name: "g.json") }
    }

    @Test func anIdDeclaredInTwoCatalogsIsRefusedNamingBoth() throws {
        let first = #"{"name": "a", "indicators": [{"id": "x.rate", "name_zh": "甲", "name_en": "a", "unit": "%", "op": null, "scopes": ["city"], "clause": "1", "departments": ["education"], "formula": {"value": {"feed": "finance.year", "field": "preschool_fiscal_wan"}}}]}"#
        let second = first.replacingOccurrences(of: #""name": "a""#, with: #""name": "b""#)
        do {
            _ = try Catalog.parse([(Array(first.utf8), "a.json"), (Array(second.utf8), "b.json")])
            Issue.record("a repeated id was accepted")
        } catch {
            #expect(error.file == "b.json" && error.indicator == "x.rate")
            #expect(error.message.contains("declared in catalog \"a\" already"), "\(error.message)")
        }
        do {
            _ = try Catalog.parse([(Array(first.utf8), "a.json"), (Array(first.utf8), "a2.json")])
            Issue.record("a catalog loaded twice was accepted")
        } catch {
            #expect(error.message.contains("a catalog named \"a\" is loaded already"), "\(error.message)")
        }
    }
}
