import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import PropertyBased
import Testing

/// Property: the indicators' results do not depend on the order records arrive in.
///
/// Random versions of records of every feed the catalog reads (towns, kindergartens and schools
/// that move between towns and change ownership and level, cohorts, censuses, city-wide
/// figures, projects, inventories, heartbeats), each with an `as_of` from four instants, are
/// applied to an `IndicatorEngine` on the real catalog (`deploy/catalog/enping-2023-2025.json`)
/// in two random orders, older versions and re-sends interleaved. As the ingest would, a version
/// reaches the engine only if it is newer — `as_of`, then the larger body — than the one the
/// engine has for its key (an older one is `stale` and never forwarded). Both engines, and a
/// fresh one loaded with just the final versions, must give identical results for the city,
/// every town and every institution, for 2023–2026.
///
/// Property: applied in random batches, each batch names every result it changed.
@Suite struct PropertyIndicatorTests {
    static let iterations = 400
    typealias F = EvaluationFixture

    /// One generated version; `values` fill the body's numbers.
    struct Version: Sendable, CustomStringConvertible {
        var kind: Int
        var key: Int
        var year: Int
        var asOf: Int
        var values: [Int]

        static let kinds = [
            "town", "kindergarten", "school", "cohort", "preschool", "compulsory", "retention", "special", "finance", "survey",
            "talent", "project", "inventory", "heartbeat",
        ]
        var description: String { "\(Self.kinds[kind])#\(key) \(2023 + year) @\(asOf) \(values)" }
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var versions: [Version]
        /// Indexes (mod the number of versions) re-sent later.
        var resends: [Int]
        var seeds: [UInt64]
        var testDescription: String { "versions \(versions), re-sends \(resends), order seeds \(seeds)" }
    }

    static var scenarios: Generator<Scenario, some Sequence & SendableMetatype> {
        let version = zip(
            Gen.int(in: 0...13), Gen.int(in: 0...2), Gen.int(in: 0...3), Gen.int(in: 0...3), Gen.int(in: 0...9).array(of: 5)
        ).map { Version(kind: $0.0, key: $0.1, year: $0.2, asOf: $0.3, values: $0.4) }
        return zip(version.array(of: 1...40), Gen.int(in: 0...63).array(of: 0...8), Gen.uint64().withoutShrink().array(of: 2))
            .map { Scenario(versions: $0.0, resends: $0.1, seeds: $0.2) }
    }

    static let t0: Int64 = 1_795_910_400_000
    /// Heartbeats are 60 s apart; the results are evaluated 200 s after the first, so some
    /// devices count as online and some do not.
    static let now = Timestamp(millis: t0 + 200_000)

    static func instant(_ n: Int, utc8: Bool) -> JSONValue {
        let millis = t0 + Int64(n) * 60_000
        if !utc8 { return .string(Timestamp(millis: millis).description) }
        let local = Timestamp(millis: millis + 8 * 3_600_000).description
        return .string(String(local.dropLast()) + "+08:00")
    }

    /// The record of a version (a valid body of its feed).
    static func record(_ v: Version) -> (FeedType, JSONObject) {
        let a = Int64(v.values[0]), b = Int64(v.values[1]), c = Int64(v.values[2]), d = Int64(v.values[3])
        let e = Int64(v.values[4])
        let year = Int64(2023 + v.year)
        let ownerships = ["public", "inclusive_private", "private"]
        var record: (FeedType, JSONObject)
        switch v.kind {
        case 0: record = F.town("t\(v.key)", kind: a % 2 == 0 ? "town" : "street")
        case 1:
            record = F.institution(
                "kg-\(v.key)", town: "t\(a % 3)", ownership: ownerships[Int(b % 3)], central: c % 2 == 0)
        case 2:
            record = F.institution(
                "sc-\(v.key)", town: "t\(a % 3)", level: ["primary", "junior", "nine_year", "special"][Int(b % 4)],
                ownership: ownerships[Int(c % 3)])
        case 3: record = F.cohort("t\(v.key)", year, 10 * a + 5, 10 * b, 10 * c + 1)
        case 4:
            let classes: [F.PreschoolClass] = (0..<Int(a % 3 + 1)).map { n in
                ("c\(n)", ["small", "middle", "large", "mixed"][Int((b + Int64(n)) % 4)], 20 + 2 * c + Int64(n), d % 3, e % 2)
            }
            record = F.census(
                "kg-\(v.key)", year, classes, teachers: 1 + d, caregivers: e, staff: 2 + d + e, certified: min(1 + d, b), disabled: c % 3)
        case 5:
            let students = 100 + 20 * a
            record = F.compulsory(
                "sc-\(v.key)", year, students: students, migrants: min(students, 10 * b),
                classes: [("x1", 1 + b % 9, 40 + 2 * c), ("x2", 1 + d % 9, 45 + e)])
        case 6: record = (.compulsoryRetention, ["year": .int(year), "grade9_students": .int(90 + a), "cohort_entrants": .int(95 + b)])
        case 7:
            let schoolAge = 50 + a
            record = (
                .specialPopulation,
                [
                    "year": .int(year), "disabled_school_age": .int(schoolAge), "enrolled": .int(schoolAge - b),
                    "home_delivered": .int(c), "disabled_preschool_age_certified": .int(d),
                ]
            )
        case 8:
            record = (
                .financeYear,
                [
                    "year": .int(year), "preschool_fiscal_wan": .int(200 + 10 * a), "education_fiscal_wan": .double(4000 + Double(b) * 12.5),
                    "public_kg_per_pupil_yuan": .int(450 + 10 * c), "inclusive_private_subsidy_yuan": .int(500 + 10 * d),
                ]
            )
        case 9: record = (.surveyRecognition, ["year": .int(year), "respondents": .int(100 + a), "satisfied": .int(80 + b)])
        case 10:
            record = (
                .talentYear,
                [
                    "year": .int(year), "county_famous_teachers": .int(50 + a), "city_excellent_teachers": .int(b),
                    "studios": ["provincial": .int(c % 2), "city": .int(d), "county": .int(15 + e)],
                ]
            )
        case 11:
            record = F.project(
                "p\(v.key)", kind: ["kindergarten", "primary", "junior"][Int(a % 3)], delivered: 100 * (b % 6),
                status: ["planned", "building", "done"][Int(c % 3)])
        case 12:
            let devices = (0..<Int(a % 3)).map { "dev-\(v.key)-\($0)" }
            record = F.inventory(
                "kg-\(v.key)", devices: devices, linked: b % 2 == 0, closed: c % 2 == 0, required: d % 4, guards: e % 4)
        default:
            let ok = a % 3 != 0
            record = F.heartbeat("dev-\(v.key)-\(b % 2)", "kg-\(v.key)", at: Timestamp(millis: t0), ok: ok)
            record.1["at"] = instant(v.asOf, utc8: c % 2 == 1)
            return record
        }
        record.1["as_of"] = instant(v.asOf, utc8: v.values[3] % 2 == 1)
        return record
    }

    /// A record with its key and the ingest's order of versions (`as_of`, then the body text).
    struct Versioned {
        var type: FeedType
        var body: JSONObject
        var key: String
        var asOf: Int64
        var text: String

        var slot: String { type.rawValue + "/" + key }
        func isNewer(than other: Versioned) -> Bool { asOf != other.asOf ? asOf > other.asOf : text > other.text }
    }

    static func versioned(_ record: (FeedType, JSONObject)) throws -> Versioned {
        let feed = try FeedValidator.validate(record.0, body: record.1).get()
        return Versioned(
            type: record.0, body: record.1, key: feed.key, asOf: try #require(feed.asOf).millis,
            text: JSONWriter.string(.object(record.1)))
    }

    /// An engine fed `records` in order through the ingest's filter; returns it and what it
    /// holds per key.
    static func engine(_ records: [Versioned]) -> (IndicatorEngine, [String: Versioned]) {
        let engine = IndicatorEngine(catalog: F.catalog)
        var applied: [String: Versioned] = [:]
        for record in records {
            if let current = applied[record.slot], !record.isNewer(than: current) { continue }  // stale: not forwarded
            applied[record.slot] = record
            engine.apply(type: record.type, key: record.key, body: record.body)
        }
        return (engine, applied)
    }

    static func results(_ engine: IndicatorEngine) -> [String: [IndicatorResult]] {
        F.snapshot(engine, years: [2023, 2024, 2025, 2026], institutions: engine.institutionIDs, now: now)
    }

    @Test func resultsDoNotDependOnArrivalOrder() async throws {
        await propertyCheck(count: Self.iterations, input: Self.scenarios) { scenario in
            let versions = try scenario.versions.map { try Self.versioned(Self.record($0)) }
            let sent = versions + scenario.resends.map { versions[$0 % versions.count] }
            var engines: [(IndicatorEngine, [String: Versioned])] = []
            for seed in scenario.seeds {
                var random = Xoshiro(seed: (seed, ~seed, 0x9E37_79B9_7F4A_7C15, 2))
                engines.append(Self.engine(sent.shuffled(using: &random)))
            }
            // Both orders end with the same version of every key...
            let final0 = engines[0].1.mapValues(\.text), final1 = engines[1].1.mapValues(\.text)
            #expect(final0 == final1)
            // ...and then with the same results, which are those of an engine that only ever saw them.
            let fresh = Self.engine(engines[0].1.values.sorted { $0.slot < $1.slot }).0
            let expected = Self.results(fresh)
            for (n, (engine, _)) in engines.enumerated() {
                let actual = Self.results(engine)
                #expect(actual.keys.sorted() == expected.keys.sorted(), "order \(n): scopes")
                for (scope, results) in expected.sorted(by: { $0.key < $1.key }) {
                    let got = actual[scope] ?? []
                    if got != results {
                        let differing = zip(got, results).filter { $0.0 != $0.1 }.map { "\($0.0.id): \($0.0) vs fresh \($0.1)" }
                        Issue.record("order \(n) (seed \(scenario.seeds[n])), \(scope): \(differing.prefix(3))")
                    }
                }
            }
        }
    }

    /// Property: a batch (``IndicatorEngine/applyBatch(_:)``, what dudao-indicators applies a
    /// batch of log records with) names every (indicator, year, scope) whose result it changed:
    /// the service re-evaluates only those, so a result left out would keep a stale status.
    @Test func aBatchNamesEveryResultItChanged() async throws {
        await propertyCheck(count: 150, input: Self.scenarios) { scenario in
            let versions = try scenario.versions.map { try Self.versioned(Self.record($0)) }
            let sent = versions + scenario.resends.map { versions[$0 % versions.count] }
            // Forwarded through the ingest's filter, as ``engine(_:)`` does.
            var applied: [String: Versioned] = [:]
            var forwarded: [ValidatedFeed] = []
            for record in sent {
                if let current = applied[record.slot], !record.isNewer(than: current) { continue }
                applied[record.slot] = record
                forwarded.append(try FeedValidator.validate(record.type, body: record.body).get())
            }
            let engine = IndicatorEngine(catalog: F.catalog)
            var random = Xoshiro(seed: (scenario.seeds[0], ~scenario.seeds[0], 0x9E37_79B9_7F4A_7C15, 3))
            var start = 0
            while start < forwarded.count {
                let end = min(forwarded.count, start + Int.random(in: 1...8, using: &random))
                let before = Self.resultsByKey(engine)
                let named = engine.applyBatch { apply in
                    for feed in forwarded[start..<end] { apply(feed, nil) }
                }
                for (key, result) in Self.resultsByKey(engine) where before[key] != nil && before[key] != result {
                    let covered =
                        named.contains(AffectedKey(indicator: key.indicator, year: key.year, scope: key.scope))
                        || named.contains(AffectedKey(indicator: key.indicator, year: nil, scope: key.scope))
                    #expect(covered, "records \(start)..<\(end) changed \(key.indicator) \(key.year) \(key.scope.text) and did not say so")
                }
                start = end
            }
        }
    }

    struct ResultKey: Hashable {
        var indicator: String
        var year: Int
        var scope: Scope
    }

    /// Every result for 2023–2026 at the city, every town and every institution.
    static func resultsByKey(_ engine: IndicatorEngine) -> [ResultKey: IndicatorResult] {
        var results: [ResultKey: IndicatorResult] = [:]
        let scopes = [Scope.city] + engine.towns.map(Scope.town) + engine.institutionIDs.map(Scope.institution)
        for year in [2023, 2024, 2025, 2026] {
            for scope in scopes {
                for result in engine.evaluate(year: year, scope: scope, now: now) {
                    results[ResultKey(indicator: result.id, year: year, scope: scope)] = result
                }
            }
        }
        return results
    }
}
