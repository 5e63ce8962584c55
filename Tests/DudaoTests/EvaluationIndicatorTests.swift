import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import Testing

/// Every indicator of the catalog at city, town and (where listed) institution scope, on the
/// hand-computed ``CityFixture``. Margins: % 2, ratio 0.5, 元 20, 人/个 0, and 0 for the
/// 100 %-target rates (certified teachers, town central coverage, safety).
@Suite struct EvaluationIndicatorTests {
    let t1 = Scope.town("t1"), t2 = Scope.town("t2"), t3 = Scope.town("t3")
    static let kgA = Scope.institution("kg-a"), kgB = Scope.institution("kg-b")
    static let kgC = Scope.institution("kg-c"), kgD = Scope.institution("kg-d"), kgE = Scope.institution("kg-e")

    func check(_ expectations: [Expected]) throws {
        let engine = try CityFixture.engine()
        for expectation in expectations { expectation.check(engine) }
    }

    @Test func grossEnrollment() throws {
        try check([
            Expected("preschool.gross_enrollment_rate", .city, 100.0 * 256 / 310, "not_met", num: 256, den: 310, target: 100),
            // exactly at the target, within the 2-point margin
            Expected("preschool.gross_enrollment_rate", t1, 100, "at_risk", num: 150, den: 150),
            Expected("preschool.gross_enrollment_rate", t2, 106, "met", num: 106, den: 100),
            // t3's only kindergarten sent no census: an input is missing
            Expected("preschool.gross_enrollment_rate", t3, nil, "no_data", den: 60),
        ])
        let engine = try CityFixture.engine()
        #expect(engine.evaluate(indicator: "preschool.gross_enrollment_rate", year: 2025, scope: Self.kgA, now: CityFixture.now) == nil)
        #expect(engine.evaluate(indicator: "preschool.gross_enrollment_rate", year: 2025, scope: t3, now: CityFixture.now)?.numerator == nil)
    }

    @Test func inclusiveAndPublicShares() throws {
        try check([
            Expected("preschool.inclusive_coverage", .city, 100.0 * 190 / 256, "not_met", num: 190, den: 256, target: 85),
            Expected("preschool.inclusive_coverage", t1, 100, "met", num: 150, den: 150),
            Expected("preschool.inclusive_coverage", t2, 100.0 * 40 / 106, "not_met"),
            Expected("preschool.inclusive_coverage", t3, nil, "no_data"),
            Expected("preschool.public_share", .city, 100.0 * 131 / 256, "at_risk", num: 131, den: 256, target: 50),
            Expected("preschool.public_share", t1, 100.0 * 91 / 150, "met"),
            Expected("preschool.public_share", t2, 100.0 * 40 / 106, "not_met"),
            Expected("preschool.public_share", t3, nil, "no_data"),
        ])
    }

    @Test func childrenPerTeacherStaffAndCarer() throws {
        try check([
            Expected("preschool.children_per_teacher", .city, 256.0 / 19, "met", num: 256, den: 19, target: 15),
            Expected("preschool.children_per_teacher", t1, 150.0 / 11, "met"),
            Expected("preschool.children_per_teacher", t2, 106.0 / 8, "met"),
            Expected("preschool.children_per_teacher", t3, nil, "no_data"),
            Expected("preschool.children_per_teacher", Self.kgA, 13, "met"),
            Expected("preschool.children_per_teacher", Self.kgB, 14.75, "at_risk"),
            Expected("preschool.children_per_teacher", Self.kgC, 16.5, "not_met"),
            Expected("preschool.children_per_teacher", Self.kgD, 10, "met"),
            Expected("preschool.children_per_teacher", Self.kgE, nil, "no_data"),
            Expected("preschool.children_per_staff", .city, 256.0 / 38, "at_risk", num: 256, den: 38, target: 7),
            Expected("preschool.children_per_staff", t1, 150.0 / 21, "not_met"),
            Expected("preschool.children_per_staff", t2, 106.0 / 17, "met"),
            Expected("preschool.children_per_staff", Self.kgA, 7, "at_risk"),  // exactly at the target
            Expected("preschool.children_per_staff", Self.kgB, 59.0 / 8, "not_met"),
            Expected("preschool.children_per_staff", Self.kgD, 5, "met"),
            Expected("preschool.children_per_carer", .city, 256.0 / 28, "not_met", num: 256, den: 28, target: 9),
            Expected("preschool.children_per_carer", t1, 150.0 / 16, "not_met"),
            Expected("preschool.children_per_carer", t2, 106.0 / 12, "at_risk"),
            Expected("preschool.children_per_carer", Self.kgC, 11, "not_met"),
            Expected("preschool.children_per_carer", Self.kgD, 40.0 / 6, "met"),
            // targets carried forward: 16 in 2023, 15 from 2024; 2026 is judged against 15
            Expected("preschool.children_per_teacher", .city, nil, "no_data", target: 16, year: 2023),
            Expected("preschool.children_per_teacher", .city, 15.5, "not_met", num: 31, den: 2, target: 15, year: 2026),
            Expected("preschool.children_per_teacher", Self.kgD, 15.5, "not_met", target: 15, year: 2026),
            Expected("preschool.children_per_teacher", .city, nil, "no_data", year: 2022),
        ])
    }

    @Test func classSizeLimitsByLevel() throws {
        // limits small 25, middle 30, large 35, mixed 30; a class at its limit complies
        try check([
            Expected("preschool.class_size_compliance", .city, 100.0 * 6 / 9, "not_met", num: 6, den: 9, target: 85),
            Expected("preschool.class_size_compliance", t1, 60, "not_met", num: 3, den: 5),
            Expected("preschool.class_size_compliance", t2, 75, "not_met", num: 3, den: 4),
            Expected("preschool.class_size_compliance", t3, nil, "no_data"),
            Expected("preschool.class_size_compliance", Self.kgA, 100.0 * 2 / 3, "not_met"),
            Expected("preschool.class_size_compliance", Self.kgB, 50, "not_met"),
            Expected("preschool.class_size_compliance", Self.kgC, 50, "not_met"),
            Expected("preschool.class_size_compliance", Self.kgD, 100, "met"),
            Expected("preschool.class_size_compliance", .city, 0, "not_met", num: 0, den: 1, target: 85, year: 2026),
        ])
    }

    @Test func twoTeachersOneCarerIsTracked() throws {
        try check([
            Expected("preschool.two_teachers_one_carer", .city, 100.0 * 7 / 9, "tracked", num: 7, den: 9),
            Expected("preschool.two_teachers_one_carer", t1, 60, "tracked"),
            Expected("preschool.two_teachers_one_carer", t2, 100, "tracked"),
            Expected("preschool.two_teachers_one_carer", Self.kgA, 100.0 * 2 / 3, "tracked"),
            Expected("preschool.two_teachers_one_carer", Self.kgB, 50, "tracked"),
            Expected("preschool.two_teachers_one_carer", t3, nil, "no_data"),
        ])
        let engine = try CityFixture.engine()
        #expect(engine.evaluate(indicator: "preschool.two_teachers_one_carer", year: 2025, scope: .city, now: CityFixture.now)?.target == nil)
    }

    @Test func certifiedTeachers() throws {
        try check([
            Expected("preschool.certified_teacher_rate", .city, 100.0 * 18 / 19, "not_met", num: 18, den: 19, target: 100),
            Expected("preschool.certified_teacher_rate", t1, 100.0 * 10 / 11, "not_met"),
            Expected("preschool.certified_teacher_rate", t2, 100, "met"),  // at the target, margin 0
            Expected("preschool.certified_teacher_rate", Self.kgB, 75, "not_met"),
            Expected("preschool.certified_teacher_rate", Self.kgA, 100, "met"),
            Expected("preschool.certified_teacher_rate", Self.kgE, nil, "no_data"),
        ])
    }

    @Test func townCentralCoverage() throws {
        try check([Expected("preschool.town_central_coverage", .city, 100.0 * 2 / 3, "not_met", num: 2, den: 3, target: 100)])
        let engine = try CityFixture.engine()
        #expect(engine.evaluate(indicator: "preschool.town_central_coverage", year: 2025, scope: t1, now: CityFixture.now) == nil)
        // t3's kindergarten becomes its public central kindergarten: every town is covered
        engine.apply(type: .registryInstitution, key: "kg-e", body: EvaluationFixture.institution("kg-e", town: "t3", central: true).1)
        Expected("preschool.town_central_coverage", .city, 100, "met", num: 3, den: 3).check(engine)
        // a central kindergarten that is not public does not count
        engine.apply(
            type: .registryInstitution, key: "kg-e",
            body: EvaluationFixture.institution("kg-e", town: "t3", ownership: "inclusive_private", central: true).1)
        Expected("preschool.town_central_coverage", .city, 100.0 * 2 / 3, "not_met").check(engine)
        // a registered town without any institution counts against coverage
        engine.apply(type: .registryTown, key: "t4", body: EvaluationFixture.town("t4").1)
        Expected("preschool.town_central_coverage", .city, 50, "not_met", num: 2, den: 4).check(engine)
        let rows = engine.contributors(indicator: "preschool.town_central_coverage", year: 2025, scope: .city, now: CityFixture.now, limit: 10)
        #expect(rows.compactMap { $0["town_id"]?.stringValue } == ["t3", "t4"])
    }

    @Test func cityWideRatesAndValues() throws {
        try check([
            Expected("preschool.disabled_enrollment_rate", .city, 90, "at_risk", num: 9, den: 10, target: 90),
            Expected("preschool.social_recognition", .city, 85, "at_risk", num: 170, den: 200, target: 85),
            Expected("finance.public_kg_per_pupil", .city, 500, "at_risk", num: 500, target: 500),
            Expected("finance.inclusive_private_subsidy", .city, 600, "met", target: 500),
            Expected("finance.preschool_share", .city, 5, "at_risk", num: 256, den: 5120, target: 5),
            // no 2024 value to compare with
            Expected("finance.preschool_spend_per_child", .city, nil, "no_data", num: 256, den: 256),
            Expected("compulsory.retention_rate", .city, 96, "at_risk", target: 96),
            // before the first target year (2024): tracked
            Expected("compulsory.retention_rate", .city, 90, "tracked", year: 2023),
            Expected("special.enrollment_rate", .city, 97, "at_risk", num: 97, den: 100),
            Expected("special.home_delivery_share", .city, 10, "at_risk", num: 10, den: 100, target: 10),
            Expected("talent.county_famous_teachers", .city, 60, "met", target: 60),
            Expected("talent.city_excellent_teachers", .city, 9, "not_met", target: 10),
            Expected("talent.studios_provincial", .city, 1, "met", target: 1),
            Expected("talent.studios_city", .city, 7, "met", target: 6),
            Expected("talent.studios_county", .city, 20, "met", target: 20),
            Expected("talent.studios_county", .city, nil, "no_data", target: 20, year: 2024),
        ])
        let engine = try CityFixture.engine()
        for id in ["finance.preschool_share", "special.enrollment_rate", "talent.studios_city", "preschool.social_recognition"] {
            #expect(engine.evaluate(indicator: id, year: 2025, scope: t1, now: CityFixture.now) == nil)
        }
    }

    @Test func compulsoryShares() throws {
        try check([
            Expected("compulsory.private_share", .city, 100.0 * 50 / 650, "not_met", num: 50, den: 650, target: 5),
            Expected("compulsory.private_share", t1, 0, "met", num: 0, den: 600),
            Expected("compulsory.private_share", t2, 100, "not_met"),
            Expected("compulsory.private_share", t3, nil, "no_data"),
            Expected("compulsory.migrant_public_share", .city, 100.0 * 100 / 120, "not_met", num: 100, den: 120, target: 90),
            Expected("compulsory.migrant_public_share", t1, 100, "met"),
            Expected("compulsory.migrant_public_share", t2, 0, "not_met", num: 0, den: 20),
        ])
    }

    @Test func largeClasses() throws {
        // 56 or more students; the special school's class of 60 is not a compulsory class
        try check([
            Expected("compulsory.large_classes", .city, 2, "not_met", num: 2, target: 0),
            Expected("compulsory.large_classes", t1, 1, "not_met"),
            Expected("compulsory.large_classes", t2, 1, "not_met"),
            Expected("compulsory.large_classes", t3, nil, "no_data"),
            Expected("compulsory.large_classes", .institution("ps-a"), 1, "not_met"),
            Expected("compulsory.large_classes", .institution("js-b"), 1, "not_met"),
            Expected("compulsory.large_classes", .institution("sp-c"), 0, "met"),
            Expected("compulsory.large_classes", Self.kgA, nil, "no_data"),
        ])
    }

    @Test func safetyRatesCountUnreportedKindergartensAsNotCompliant() throws {
        // 5 registered kindergartens; kg-e never sent an inventory; ps-a's inventory is not a kindergarten's
        try check([
            Expected("safety.alarm_install_rate", .city, 60, "not_met", num: 3, den: 5, target: 100),
            Expected("safety.alarm_install_rate", t1, 50, "not_met", num: 1, den: 2),
            Expected("safety.alarm_install_rate", t2, 100, "met", num: 2, den: 2),
            Expected("safety.alarm_install_rate", t3, 0, "not_met", num: 0, den: 1),
            Expected("safety.police_link_rate", .city, 60, "not_met", num: 3, den: 5),
            Expected("safety.police_link_rate", t1, 50, "not_met"),
            Expected("safety.police_link_rate", t2, 100, "met"),
            Expected("safety.police_link_rate", t3, 0, "not_met"),
            Expected("safety.closed_management_rate", .city, 60, "not_met", num: 3, den: 5),
            Expected("safety.closed_management_rate", t1, 100, "met"),
            Expected("safety.closed_management_rate", t2, 50, "not_met"),
            Expected("safety.closed_management_rate", t3, 0, "not_met"),
            // guards_full_time >= max(guards_required, 1): kg-c has 0 of 0, kg-d 2 of 3
            Expected("safety.guard_staffing_rate", .city, 40, "not_met", num: 2, den: 5),
            Expected("safety.guard_staffing_rate", t1, 100, "met"),
            Expected("safety.guard_staffing_rate", t2, 0, "not_met"),
            Expected("safety.guard_staffing_rate", t3, 0, "not_met"),
            // the rates hold for every year (inventories have no year)
            Expected("safety.alarm_install_rate", .city, 60, "not_met", year: 2024),
            Expected("safety.alarm_install_rate", .city, 60, "tracked", year: 2022),
        ])
        let engine = try CityFixture.engine()
        #expect(engine.evaluate(indicator: "safety.alarm_install_rate", year: 2025, scope: Self.kgA, now: CityFixture.now) == nil)
        // kg-e reports, fully equipped: t3 reaches 100 %
        engine.apply(
            type: .safetyInventory, key: "kg-e",
            body: EvaluationFixture.inventory("kg-e", devices: ["dev-e1"], linked: true, closed: true, required: 1, guards: 1).1)
        Expected("safety.alarm_install_rate", t3, 100, "met").check(engine)
        Expected("safety.guard_staffing_rate", .city, 60, "not_met", num: 3, den: 5).check(engine)
    }

    @Test func alarmsOnlineAreLive() throws {
        // dev-a1 ok 60 s ago, dev-a2 fault, dev-c1 ok 181 s ago (offline), dev-d1 ok exactly 180 s ago (online)
        try check([
            Expected("safety.alarm_online_rate", .city, 50, "tracked", num: 2, den: 4),
            Expected("safety.alarm_online_rate", t1, 50, "tracked", num: 1, den: 2),
            Expected("safety.alarm_online_rate", t2, 50, "tracked", num: 1, den: 2),
            Expected("safety.alarm_online_rate", t3, nil, "no_data"),
        ])
        let engine = try CityFixture.engine()
        let later = Timestamp(millis: CityFixture.now.millis + 1000)
        Expected("safety.alarm_online_rate", .city, 25, "tracked", num: 1, den: 4).check(engine, now: later)
        let affected = engine.apply(
            type: .safetyHeartbeat, key: "dev-c1", body: EvaluationFixture.heartbeat("dev-c1", "kg-c", at: CityFixture.now).1)
        #expect(
            affected == [
                AffectedKey(indicator: "safety.alarm_online_rate", year: nil, scope: .city),
                AffectedKey(indicator: "safety.alarm_online_rate", year: nil, scope: t2),
            ])
        Expected("safety.alarm_online_rate", .city, 75, "tracked", num: 3, den: 4).check(engine)
        let offline = engine.contributors(indicator: "safety.alarm_online_rate", year: 2025, scope: .city, now: CityFixture.now, limit: 5)
        #expect(offline.map { $0["device_id"] } == ["dev-a2"])
        #expect(offline.first?["status"] == "fault")
    }

    @Test func projectsCountForEveryYear() throws {
        try check([
            Expected("projects.kindergarten_done", .city, 1, "not_met", target: 9),
            Expected("projects.public_kg_seats", .city, 300, "not_met", target: 3070),
            Expected("projects.compulsory_done", .city, 2, "not_met", target: 8),
            Expected("projects.compulsory_done", .city, 2, "tracked", year: 2024),  // first target is 2025
            Expected("projects.compulsory_done", .city, 2, "not_met", target: 8, year: 2026),  // carried forward
            Expected("projects.primary_seats", .city, 500, "not_met", target: 5990),
            Expected("projects.primary_seats", .city, 500, "tracked", year: 2023),
            Expected("projects.junior_seats", .city, 200, "not_met", target: 1900),
        ])
        let engine = try CityFixture.engine()
        let rows = engine.contributors(indicator: "projects.kindergarten_done", year: 2025, scope: .city, now: CityFixture.now, limit: 5)
        #expect(rows.map { $0["project_id"] } == ["p2"])
        #expect(rows.first?["status"] == "building")
    }

    @Test func everyIndicatorAppearsAtTheScopesItLists() throws {
        let engine = try CityFixture.engine()
        let city = engine.evaluate(year: 2025, scope: .city, now: CityFixture.now)
        #expect(city.map(\.id) == EvaluationFixture.catalog.indicators.map(\.id))
        let town = engine.evaluate(year: 2025, scope: t1, now: CityFixture.now).map(\.id)
        #expect(
            town == EvaluationFixture.catalog.indicators.filter { $0.scopes.contains(.town) }.map(\.id))
        #expect(town.count == 17)
        let institution = engine.evaluate(year: 2025, scope: Self.kgA, now: CityFixture.now).map(\.id)
        #expect(
            institution == [
                "preschool.children_per_teacher", "preschool.children_per_staff", "preschool.children_per_carer",
                "preschool.class_size_compliance", "preschool.two_teachers_one_carer", "preschool.certified_teacher_rate",
                "compulsory.large_classes",
            ])
        #expect(engine.towns == ["t1", "t2", "t3"])
        // a scope nobody registered: everything is no_data
        let unknown = engine.evaluate(year: 2025, scope: .town("nowhere"), now: CityFixture.now)
        #expect(unknown.allSatisfy { $0.status == .noData && $0.value == nil })
    }

    @Test func resultJSONHasTheWireShape() throws {
        let engine = try CityFixture.engine()
        let result = try #require(
            engine.evaluate(indicator: "preschool.gross_enrollment_rate", year: 2025, scope: t2, now: CityFixture.now))
        #expect(
            result.json.objectValue?.keys == [
                "id", "name_zh", "name_en", "value", "unit", "op", "target", "status", "numerator", "denominator", "clause",
                "departments", "catalog",
            ])
        #expect(
            JSONWriter.string(result.json)
                == #"{"id":"preschool.gross_enrollment_rate","name_zh":"学前三年毛入园率","name_en":"Gross preschool enrolment rate (3 years)","value":106,"unit":"%","op":">=","target":100,"status":"met","numerator":106,"denominator":100,"clause":"二(一); 三(一)1(1)","departments":["education"],"catalog":"enping-2023-2025"}"#
        )
        let missing = try #require(
            engine.evaluate(indicator: "preschool.gross_enrollment_rate", year: 2025, scope: t3, now: CityFixture.now))
        #expect(missing.json["value"] == .null)
        #expect(missing.json["numerator"] == .null)
        let tracked = try #require(
            engine.evaluate(indicator: "preschool.two_teachers_one_carer", year: 2025, scope: .city, now: CityFixture.now))
        #expect(tracked.json["op"] == .null)
        #expect(tracked.json["target"] == .null)
        #expect(tracked.json["value"] == .double(100.0 * 7 / 9))
        let safety = try #require(engine.evaluate(indicator: "safety.police_link_rate", year: 2025, scope: t1, now: CityFixture.now))
        #expect(safety.departments == ["education", "police"])
    }
}
