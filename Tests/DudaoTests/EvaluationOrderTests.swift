import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import Testing

/// Results do not depend on the order records arrive in; updates replace; registry changes move
/// contributions; `apply` reports exactly the keys that may have changed.
@Suite struct EvaluationOrderTests {
    typealias F = EvaluationFixture
    static let years = [2022, 2023, 2024, 2025, 2026]

    /// A small deterministic generator for shuffles.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    func snapshot(_ engine: IndicatorEngine) -> [String: [IndicatorResult]] {
        F.snapshot(engine, years: Self.years, institutions: CityFixture.institutions, now: CityFixture.now)
    }

    @Test func anyOrderGivesTheSameResults() throws {
        let expected = snapshot(try CityFixture.engine())
        #expect(expected.count == Self.years.count * (1 + 3 + CityFixture.institutions.count))
        var orders: [[(FeedType, JSONObject)]] = [
            CityFixture.records.reversed(),
            CityFixture.data + CityFixture.registry,  // every record before its registry entry
        ]
        var generator = Generator(state: 42)
        for _ in 0..<4 { orders.append(CityFixture.records.shuffled(using: &generator)) }
        for order in orders {
            #expect(snapshot(try F.engine(order)) == expected)
        }
    }

    @Test func aNewerVersionReplacesTheOlderOne() throws {
        let expected = snapshot(try CityFixture.engine())
        let older = F.census(
            "kg-a", 2025, [("s1", "small", 40, 1, 0), ("m1", "middle", 10, 0, 0)], teachers: 2, caregivers: 0, staff: 3,
            certified: 1, disabled: 0)
        // old, then new
        var records = CityFixture.records
        records.insert(older, at: CityFixture.registry.count)
        #expect(snapshot(try F.engine(records)) == expected)
        // new, old again, new again
        let engine = try CityFixture.engine()
        engine.apply(type: older.0, key: "kg-a|2025", body: older.1)
        #expect(snapshot(engine) != expected)
        engine.apply(type: .preschoolCensus, key: "kg-a|2025", body: CityFixture.kgA2025.1)
        #expect(snapshot(engine) == expected)
        // the same for a registry entry and an inventory
        let moved = F.institution("kg-a", town: "t2", ownership: "private")
        engine.apply(type: moved.0, key: "kg-a", body: moved.1)
        let bare = F.inventory("kg-a", devices: [], linked: false, closed: false, required: 9, guards: 0)
        engine.apply(type: bare.0, key: "kg-a", body: bare.1)
        #expect(snapshot(engine) != expected)
        for record in CityFixture.registry + CityFixture.data where record.1["institution_id"] == "kg-a" {
            engine.apply(type: record.0, key: try F.key(record.0, record.1), body: record.1)
        }
        #expect(snapshot(engine) == expected)
    }

    @Test func aRegistryChangeMovesTheInstitutionsContributions() throws {
        let moved = F.institution("kg-c", town: "t3")  // from t2 (private) to t3 (public)
        let engine = try CityFixture.engine()
        let affected = engine.apply(type: moved.0, key: "kg-c", body: moved.1)
        let fresh = try F.engine(CityFixture.records.map { $0.1["institution_id"] == "kg-c" && $0.0 == .registryInstitution ? moved : $0 })
        #expect(snapshot(engine) == snapshot(fresh))
        Expected("preschool.children_per_teacher", .town("t2"), 10, "met", num: 40, den: 4).check(engine)
        Expected("preschool.children_per_teacher", .town("t3"), 16.5, "not_met", num: 66, den: 4).check(engine)
        Expected("preschool.gross_enrollment_rate", .town("t3"), 110, "met", num: 66, den: 60).check(engine)
        Expected("preschool.public_share", .city, 100.0 * 197 / 256, "met").check(engine)
        Expected("safety.alarm_install_rate", .town("t3"), 50, "not_met", num: 1, den: 2).check(engine)
        Expected("safety.alarm_online_rate", .town("t2"), 100, "tracked", num: 1, den: 1).check(engine)
        for key in [
            AffectedKey(indicator: "preschool.children_per_teacher", year: 2025, scope: .town("t2")),
            AffectedKey(indicator: "preschool.children_per_teacher", year: 2025, scope: .town("t3")),
            AffectedKey(indicator: "preschool.public_share", year: 2025, scope: .city),
            AffectedKey(indicator: "safety.alarm_install_rate", year: nil, scope: .town("t3")),
            AffectedKey(indicator: "compulsory.large_classes", year: nil, scope: .town("t3")),
        ] where key.indicator != "compulsory.large_classes" {
            #expect(affected.contains(key), "\(key)")
        }
        // unchanged: the city's children, the compulsory schools, city-wide feeds
        #expect(!affected.contains(AffectedKey(indicator: "preschool.children_per_teacher", year: 2025, scope: .city)))
        #expect(!affected.contains { $0.indicator.hasPrefix("compulsory.") || $0.indicator.hasPrefix("finance.") })
    }

    @Test func applyReportsExactlyTheKeysThatMayHaveChanged() throws {
        let engine = try CityFixture.engine()
        // m1 of kg-a goes from 31 children (over the middle limit of 30) to 30
        let changed = F.census(
            "kg-a", 2025, [("s1", "small", 25, 2, 1), ("m1", "middle", 30, 2, 1), ("l1", "large", 35, 2, 0)],
            teachers: 7, caregivers: 3, staff: 13, certified: 7, disabled: 5)
        let affected = engine.apply(type: changed.0, key: "kg-a|2025", body: changed.1)
        var expected: Set<AffectedKey> = []
        let t1 = Scope.town("t1"), kgA = Scope.institution("kg-a")
        for id in ["preschool.gross_enrollment_rate", "preschool.inclusive_coverage", "preschool.public_share"] {
            for scope in [Scope.city, t1] { expected.insert(AffectedKey(indicator: id, year: 2025, scope: scope)) }
        }
        for id in [
            "preschool.children_per_teacher", "preschool.children_per_staff", "preschool.children_per_carer",
            "preschool.class_size_compliance",
        ] {
            for scope in [Scope.city, t1, kgA] { expected.insert(AffectedKey(indicator: id, year: 2025, scope: scope)) }
        }
        // spending per child of 2025 changes, and so does the target of 2026
        expected.insert(AffectedKey(indicator: "finance.preschool_spend_per_child", year: 2025, scope: .city))
        expected.insert(AffectedKey(indicator: "finance.preschool_spend_per_child", year: 2026, scope: .city))
        #expect(affected == expected)
        Expected("preschool.class_size_compliance", .city, 100.0 * 7 / 9, "not_met").check(engine)
        // the same version again changes nothing
        #expect(engine.apply(type: changed.0, key: "kg-a|2025", body: changed.1).isEmpty)
        // a name change in the registry moves nothing
        var renamed = F.institution("kg-a", town: "t1", central: true)
        renamed.1["name"] = "新名字"
        #expect(engine.apply(type: renamed.0, key: "kg-a", body: renamed.1).isEmpty)
        // a registry entry of a town counts for every year
        let town = F.town("t9")
        #expect(
            engine.apply(type: town.0, key: "t9", body: town.1)
                == [AffectedKey(indicator: "preschool.town_central_coverage", year: nil, scope: .city)])
    }

    @Test func randomUpdatesEndWhereAFreshEngineStarts() throws {
        var generator = Generator(state: 7)
        let engine = try CityFixture.engine()
        var latest: [String: (FeedType, JSONObject)] = [:]
        for record in CityFixture.records { latest[record.0.rawValue + "/" + (try F.key(record.0, record.1))] = record }
        let kindergartens = ["kg-a", "kg-b", "kg-c", "kg-d", "kg-e"]
        let towns = ["t1", "t2", "t3"]
        let ownerships = ["public", "inclusive_private", "private"]
        for step in 0..<300 {
            let id = kindergartens.randomElement(using: &generator)!
            let record: (FeedType, JSONObject)
            switch step % 4 {
            case 0:
                record = F.institution(
                    id, town: towns.randomElement(using: &generator)!, ownership: ownerships.randomElement(using: &generator)!,
                    central: Bool.random(using: &generator))
            case 1:
                let year = Int64.random(in: 2024...2026, using: &generator)
                let classes: [F.PreschoolClass] = (0..<Int.random(in: 0...3, using: &generator)).map {
                    ("c\($0)", ["small", "middle", "large", "mixed"].randomElement(using: &generator)!,
                     Int64.random(in: 10...40, using: &generator), Int64.random(in: 0...3, using: &generator),
                     Int64.random(in: 0...2, using: &generator))
                }
                let teachers = Int64.random(in: 0...8, using: &generator)
                record = F.census(
                    id, year, classes, teachers: teachers, caregivers: Int64.random(in: 0...4, using: &generator),
                    staff: Int64.random(in: 0...15, using: &generator), certified: Int64.random(in: 0...teachers, using: &generator),
                    disabled: Int64.random(in: 0...2, using: &generator))
            case 2:
                record = F.inventory(
                    id, devices: Bool.random(using: &generator) ? [] : ["dev-\(id)-1", "dev-\(id)-2"],
                    linked: Bool.random(using: &generator), closed: Bool.random(using: &generator),
                    required: Int64.random(in: 0...3, using: &generator), guards: Int64.random(in: 0...3, using: &generator))
            default:
                record = F.heartbeat(
                    "dev-\(id)-1", id, at: CityFixture.seconds(Int64.random(in: 0...400, using: &generator)),
                    ok: Bool.random(using: &generator))
            }
            let key = try F.key(record.0, record.1)
            engine.apply(type: record.0, key: key, body: record.1)
            latest[record.0.rawValue + "/" + key] = record
        }
        let fresh = try F.engine(latest.values.shuffled(using: &generator))
        #expect(snapshot(engine) == snapshot(fresh))
        for id in ["preschool.class_size_compliance", "safety.alarm_install_rate", "preschool.children_per_teacher"] {
            for scope in [Scope.city, .town("t1"), .town("t3")] {
                #expect(
                    engine.contributors(indicator: id, year: 2025, scope: scope, now: CityFixture.now, limit: 50)
                        == fresh.contributors(indicator: id, year: 2025, scope: scope, now: CityFixture.now, limit: 50))
            }
        }
    }
}
