import DudaoCore
import DudaoEvaluation
import DudaoFeeds

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Times the engine on a synthetic province, for `dudao bench`-style reports.
public enum EvaluationBenchmark {
    /// Builds a synthetic province (`institutions` institutions in `institutions / 500` towns,
    /// four in five kindergartens with `classesPerInstitution` classes, the rest primary
    /// schools; inventories and heartbeats for kindergartens; city-wide figures), then times:
    /// (a) applying everything from scratch plus one city evaluation; (b) evaluating every
    /// indicator for one town and for the city; (c) one incremental update (a changed census
    /// applied, then every affected key re-evaluated), averaged over 1 000 updates.
    /// Returns a printable report with the figures in milliseconds.
    /// `catalog` nil = the built-in Enping catalog.
    public static func run(institutions: Int, classesPerInstitution: Int, catalog given: Catalog? = nil) -> String {
        let catalog: Catalog
        do {
            catalog = try given ?? BuiltInCatalog.enping()
        } catch {
            return "benchmark: the built-in catalog does not load: \(error)"
        }
        let province = SyntheticProvince(institutions: max(1, institutions), classes: max(1, classesPerInstitution))
        let now = Timestamp(rfc3339: "2025-10-01T08:00:00Z") ?? Timestamp(millis: 0)

        let engine = IndicatorEngine(catalog: catalog)
        var cityResults: [IndicatorResult] = []
        let full = Timed.measure {
            for record in province.records { if let feed = record.decoded { engine.apply(feed) } }
            cityResults = engine.evaluate(year: 2025, scope: .city, now: now)
        }

        let replay = IndicatorEngine(catalog: catalog)
        let loading = Timed.measure {
            for record in province.records { if let feed = record.decoded { replay.load(feed) } }
            _ = replay.evaluate(year: 2025, scope: .city, now: now)
        }

        let town = Scope.town(province.townIDs[0])
        let evaluationRounds = 20
        var evaluated = 0
        let scopes = Timed.measure {
            for _ in 0..<evaluationRounds {
                evaluated = engine.evaluate(year: 2025, scope: town, now: now).count
                evaluated += engine.evaluate(year: 2025, scope: .city, now: now).count
            }
        }

        var generator = SplitMix(seed: 7)
        let updates = 1000
        var keys = 0
        let incremental = Timed.measure {
            for _ in 0..<updates {
                let census = province.changedCensus(&generator)
                guard let feed = census.decoded else { continue }
                let affected = engine.apply(feed)
                keys += affected.count
                for key in affected {
                    _ = engine.evaluate(indicator: key.indicator, year: key.year ?? 2025, scope: key.scope, now: now)
                }
            }
        }

        let met = cityResults.filter { $0.status == .met }.count
        return """
            evaluation benchmark: \(province.institutionCount) institutions (\(province.kindergartenCount) kindergartens), \
            \(province.classCount) classes, \(province.townIDs.count) towns, \(province.records.count) records, \
            \(catalog.indicators.count) indicators
              (a) apply everything + city evaluation: \(full.text(1)) (\(cityResults.count) results, \(met) met)
              (a') the same with load (replay, no change keys): \(loading.text(1))
              (b) evaluate one town + the city:        \(scopes.text(evaluationRounds)) (\(evaluated) results)
              (c) incremental update (apply + re-evaluate affected keys): \(incremental.text(updates)) \
            (average over \(updates), \(keys / updates) keys each)
            """
    }

    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        let millis = micros / 1000
        let fraction = String(micros % 1000)
        return "\(millis)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// Wall-clock and process CPU time of a piece of work (CPU time shows the cost on a busy machine).
struct Timed {
    var wall: Duration
    var cpu: Duration

    static func measure(_ work: () -> Void) -> Timed {
        let clock = ContinuousClock()
        let cpuStart = processCPUTime()
        let wall = clock.measure(work)
        return Timed(wall: wall, cpu: processCPUTime() - cpuStart)
    }

    static func processCPUTime() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return .seconds(Int64(spec.tv_sec)) + .nanoseconds(Int64(spec.tv_nsec))
    }

    /// `<wall> ms (cpu <cpu> ms)`, each divided by `count`.
    func text(_ count: Int) -> String {
        "\(EvaluationBenchmark.format(wall / count)) ms (cpu \(EvaluationBenchmark.format(cpu / count)) ms)"
    }
}
