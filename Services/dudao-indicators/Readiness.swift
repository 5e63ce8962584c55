import DudaoCore
import DudaoEvaluation

extension IndicatorsModel {
    /// `indicators.readiness`: for each catalog asked, every criterion met or not for the city
    /// and each town, how far a miss is in things to do (the catalog's `gap`), and the
    /// institutions or records that make the gap (the contributors, at most `limit`).
    func readiness(year: Int, catalogs names: [String], limit: Int) -> JSONValue {
        let now = Timestamp.now()
        let towns = engine.towns
        let missing = missingCounts(year: year)
        var catalogs: [JSONValue] = []
        for name in names {
            var criteria: [JSONValue] = []
            var met = 0
            var judged = 0
            for result in engine.evaluate(year: year, scope: .city, now: now, catalog: name) {
                if result.status == .met || result.status == .atRisk { met += 1 }
                if result.status != .tracked { judged += 1 }
                var row = result.json.objectValue ?? [:]
                row["gap"] = engine.gap(of: result)?.json ?? .null
                row["missing_reports"] = .array(missingReports(for: result.id, missing: missing))
                var townRows: [JSONValue] = []
                for town in towns {
                    guard let local = engine.evaluate(indicator: result.id, year: year, scope: .town(town), now: now) else { break }
                    townRows.append([
                        "town_id": .string(town), "name": .string(self.names.towns[town] ?? town),
                        "value": local.json["value"] ?? .null, "status": .string(local.status.rawValue),
                        "gap": engine.gap(of: local)?.json ?? .null,
                    ])
                }
                row["towns"] = .array(townRows)
                row["institutions"] =
                    result.status == .notMet
                    ? .array(engine.contributors(indicator: result.id, year: year, scope: .city, now: now, limit: limit)) : .array([])
                criteria.append(.object(row))
            }
            catalogs.append([
                "name": .string(name), "title_zh": .string(engine.catalog.titles[name] ?? name), "met": .int(Int64(met)), "judged": .int(Int64(judged)), "criteria": .array(criteria),
            ])
        }
        return ["year": .int(Int64(year)), "catalogs": .array(catalogs)]
    }
}
