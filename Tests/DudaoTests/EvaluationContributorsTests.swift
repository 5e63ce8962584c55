import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import Testing

/// What pulls each kind of indicator down, on ``CityFixture``.
@Suite struct EvaluationContributorsTests {
    let now = CityFixture.now

    func rows(_ engine: IndicatorEngine, _ id: String, _ scope: Scope = .city, limit: Int = 20) -> [JSONValue] {
        engine.contributors(indicator: id, year: 2025, scope: scope, now: now, limit: limit)
    }

    @Test func classesOverTheLimitOfTheirLevel() throws {
        let engine = try CityFixture.engine()
        let classes = rows(engine, "preschool.class_size_compliance")
        #expect(classes.map { $0["institution_id"] } == ["kg-a", "kg-b", "kg-c"])
        #expect(classes.map { $0["class_id"] } == ["m1", "s1", "l1"])
        #expect(classes.map { $0["children"] } == [31, 29, 36])
        #expect(classes.map { $0["limit"] } == [30, 25, 35])
        #expect(classes.map { $0["level"] } == ["middle", "small", "large"])
        #expect(classes.first?["town_id"] == "t1")
        #expect(classes.first?["failed"] == ["children"])
        #expect(rows(engine, "preschool.class_size_compliance", .institution("kg-c")).map { $0["class_id"] } == ["l1"])
        #expect(rows(engine, "preschool.class_size_compliance", limit: 2).count == 2)
        let pairs = rows(engine, "preschool.two_teachers_one_carer")
        #expect(pairs.map { $0["class_id"] } == ["l1", "x1"])
        #expect(pairs.map { $0["failed"] } == [["caregivers"], ["teachers"]])
    }

    @Test func safetyRatesListUnreportedKindergartensFirst() throws {
        let engine = try CityFixture.engine()
        let alarms = rows(engine, "safety.alarm_install_rate")
        #expect(alarms.map { $0["institution_id"] } == ["kg-e", "kg-b"])
        #expect(alarms.map { $0["unreported"] } == [true, false])
        #expect(alarms.last?["alarm_devices"] == [])
        let guards = rows(engine, "safety.guard_staffing_rate", .town("t2"))
        #expect(guards.map { $0["institution_id"] } == ["kg-c", "kg-d"])
        #expect(guards.map { $0["guards_full_time"] } == [0, 2])
        #expect(guards.map { $0["limit"] } == [1, 3])
        #expect(rows(engine, "safety.police_link_rate", .town("t2")).isEmpty)
    }

    @Test func ratiosListTheUnitsMissingTheTarget() throws {
        let engine = try CityFixture.engine()
        let teachers = rows(engine, "preschool.children_per_teacher")
        #expect(teachers.map { $0["institution_id"] } == ["kg-c"])
        #expect(teachers.first?["value"] == 16.5)
        // tracked or at town scope: still the institutions of the town
        let staff = rows(engine, "preschool.children_per_staff", .town("t1"))
        #expect(staff.map { $0["institution_id"] } == ["kg-b"])  // 7.375; kg-a is exactly at 7
        let gross = rows(engine, "preschool.gross_enrollment_rate")
        #expect(gross.map { $0["town_id"] } == ["t3"])
        #expect(gross.first?["value"] == 0)
        let certified = rows(engine, "preschool.certified_teacher_rate")
        #expect(certified.map { $0["institution_id"] } == ["kg-b"])
        let inclusive = rows(engine, "preschool.inclusive_coverage")
        #expect(inclusive.map { $0["institution_id"] } == ["kg-c"])
        #expect(inclusive.first?["denominator"] == 66)
        #expect(inclusive.first?["numerator"] == 0)
        #expect(inclusive.first?["institution.ownership"] == "private")
        let publicShare = rows(engine, "preschool.public_share")
        #expect(publicShare.map { $0["institution_id"] } == ["kg-c", "kg-b"])  // 66 then 59 children not in public kindergartens
        let migrants = rows(engine, "compulsory.migrant_public_share")
        #expect(migrants.map { $0["institution_id"] } == ["js-b"])
    }

    @Test func countsListWhatTheyCount() throws {
        let engine = try CityFixture.engine()
        let large = rows(engine, "compulsory.large_classes")
        #expect(large.map { $0["class_id"] } == ["7a", "1a"])
        #expect(large.map { $0["students"] } == [57, 56])
        #expect(rows(engine, "projects.compulsory_done").map { $0["project_id"] } == ["p5"])
        #expect(rows(engine, "projects.public_kg_seats").map { $0["project_id"] } == ["p2", "p1"])
        #expect(rows(engine, "preschool.town_central_coverage").map { $0["town_id"] } == ["t3"])
        for id in ["finance.preschool_share", "talent.studios_city", "compulsory.retention_rate", "finance.preschool_spend_per_child"] {
            #expect(rows(engine, id).isEmpty)
        }
        #expect(rows(engine, "preschool.gross_enrollment_rate", .institution("kg-a")).isEmpty)
        #expect(rows(engine, "no.such.indicator").isEmpty)
        #expect(rows(engine, "compulsory.large_classes", limit: 0).isEmpty)
    }
}
