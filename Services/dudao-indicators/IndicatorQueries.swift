import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import DudaoService
import DudaoStorage
import DudaoWire

extension IndicatorQueries {
    /// The connections of `dudao-indicators`: queries only. An identity restricted to some towns
    /// asks only about them.
    static func sessions(model: IndicatorsModel, store: IndicatorsStore, policy: Reloadable<AccessPolicy>) -> QuerySessionFactory {
        QuerySessionFactory(
            service: "dudao-indicators", types: types,
            scoped: ["indicators.evaluate", "indicators.contributors", "indicators.history"], policy: policy) { request in
            if request.towns != nil {
                let names = await model.names
                if let error = request.checkTowns(townOf: { names.institutions[$0]?.town }) { throw error }
            }
            return try await IndicatorQueries(model: model, store: store).answer(type: request.type, body: request.body)
        }
    }
}

/// The queries of `dudao-indicators` (SPEC section 4 and the project's own).
struct IndicatorQueries: Sendable {
    let model: IndicatorsModel
    let store: IndicatorsStore

    static let types = [
        "indicators.evaluate", "indicators.contributors", "indicators.history", "indicators.towns", "indicators.snapshot",
        "indicators.catalogs", "indicators.readiness", "indicators.completeness", "indicators.forecast",
    ]

    func answer(type: String, body: JSONObject) async throws -> JSONValue {
        switch type {
        case "indicators.evaluate":
            let year = try Self.year(body)
            let scope = try await self.scope(body)
            let names = try await catalogs(body)
            var results: [IndicatorResult] = []
            for name in names { results += await model.evaluate(year: year, scope: scope, catalog: name) }
            var answer: JSONObject = ["year": .int(Int64(year)), "scope": .string(scope.text), "indicators": .array(results.map(\.json))]
            if names.count == 1 { answer["catalog"] = .string(names[0]) }
            return .object(answer)
        case "indicators.readiness":
            let year = try Self.year(body)
            let names = body["catalog"] == nil ? await model.catalogs.map(\.name) : try await catalogs(body)
            let limit = body["limit"]?.intValue.map(Int.init) ?? 10
            return await model.readiness(year: year, catalogs: names, limit: max(0, min(limit, 1000)))
        case "indicators.forecast":
            return await model.forecast(year: try Self.year(body), now: .now())
        case "indicators.completeness":
            let year = try Self.year(body)
            var type: FeedType?
            if let value = body["type"] {
                let owed = model.schedule.feeds.map(\.type.rawValue)
                guard let text = value.stringValue, let named = FeedType(rawValue: text), owed.contains(text) else {
                    throw WireError(
                        .invalidField, "body.type must be a report institutions owe: \(owed.joined(separator: ", "))", path: "body.type")
                }
                type = named
            }
            return await model.completeness(year: year, type: type, now: .now())
        case "indicators.catalogs":
            return [
                "catalogs": .array(
                    await model.catalogs.map {
                        ["name": .string($0.name), "title_zh": .string($0.title), "indicators": .array($0.indicators.map(JSONValue.string))]
                    })
            ]
        case "indicators.contributors":
            let year = try Self.year(body)
            let scope = try await self.scope(body)
            let indicator = try await self.indicator(body, year: year, scope: scope)
            let limit = body["limit"]?.intValue.map(Int.init) ?? 50
            let rows = await model.contributors(indicator: indicator, year: year, scope: scope, limit: max(1, min(limit, 10_000)))
            return ["indicator": .string(indicator), "year": .int(Int64(year)), "scope": .string(scope.text), "rows": .array(rows)]
        case "indicators.history":
            let scope = try await self.scope(body)
            let years = await model.historyYears
            let indicator = try await self.indicator(body, year: years.last ?? 2025, scope: scope)
            var history: [JSONValue] = []
            for year in years {
                guard let result = await model.evaluate(indicator: indicator, year: year, scope: scope) else { continue }
                history.append([
                    "year": .int(Int64(year)), "value": result.json["value"] ?? .null, "target": result.json["target"] ?? .null,
                    "status": .string(result.status.rawValue),
                ])
            }
            return ["indicator": .string(indicator), "scope": .string(scope.text), "history": .array(history)]
        case "indicators.towns":
            let year = try Self.year(body)
            return try await townsTable(year: year)
        case "indicators.snapshot":
            let year = try Self.year(body)
            guard let month = body["month"]?.intValue, (1...12).contains(month) else {
                throw WireError(.invalidField, "body.month must be an integer from 1 to 12", path: "body.month")
            }
            let take = body["take"]?.boolValue ?? false
            return try await snapshot(year: year, month: Int(month), take: take)
        default:
            throw WireError(
                .unknownType, "\"\(type)\" is not a query of dudao-indicators; ask one of \(Self.types.joined(separator: ", "))",
                path: "type")
        }
    }

    /// `body.catalog`: a catalog's name, `all`, or absent (the plan's catalog, the first loaded).
    func catalogs(_ body: JSONObject) async throws -> [String] {
        let loaded = await model.catalogs.map(\.name)
        guard let value = body["catalog"] else { return Array(loaded.prefix(1)) }
        guard let name = value.stringValue, name == "all" || loaded.contains(name) else {
            let choices = (loaded + ["all"]).joined(separator: ", ")
            throw WireError(
                .invalidField, "body.catalog must be one of \(choices)", zh: "字段 body.catalog 应为以下之一：\(choices)", path: "body.catalog")
        }
        return name == "all" ? loaded : [name]
    }

    static func year(_ body: JSONObject) throws -> Int {
        guard let value = body["year"], case .int(let year) = value, (2000...2100).contains(year) else {
            throw WireError(.invalidField, "body.year must be an integer from 2000 to 2100", path: "body.year")
        }
        return Int(year)
    }

    func scope(_ body: JSONObject) async throws -> Scope {
        guard let text = body["scope"]?.stringValue, let scope = Scope(text) else {
            throw WireError(.invalidField, "body.scope must be \"city\", \"town:<town_id>\" or \"institution:<institution_id>\"", path: "body.scope")
        }
        let names = await model.names
        switch scope {
        case .city: break
        case .town(let id):
            guard names.towns[id] != nil else {
                throw WireError(.unknownReference, "town \"\(id)\" is not registered", path: "body.scope")
            }
        case .institution(let id):
            guard names.institutions[id] != nil else {
                throw WireError(.unknownReference, "institution \"\(id)\" is not registered", path: "body.scope")
            }
        }
        return scope
    }

    func indicator(_ body: JSONObject, year: Int, scope: Scope) async throws -> String {
        guard let id = body["indicator"]?.stringValue else {
            throw WireError(.invalidField, "body.indicator must name an indicator id", path: "body.indicator")
        }
        guard await model.evaluate(indicator: id, year: year, scope: scope) != nil else {
            throw WireError(
                .unknownReference, "indicator \"\(id)\" is not in the catalog or not evaluated at \(scope.text)", path: "body.indicator")
        }
        return id
    }

    /// Every town's results for a year (the report's town-by-town table).
    func townsTable(year: Int) async throws -> JSONValue {
        let names = await model.names
        var rows: [JSONValue] = []
        for town in await model.towns {
            let results = await model.evaluate(year: year, scope: .town(town))
            rows.append([
                "town_id": .string(town), "name": .string(names.towns[town] ?? town), "indicators": .array(results.map(\.json)),
            ])
        }
        return ["year": .int(Int64(year)), "towns": .array(rows)]
    }

    /// The results of a month, kept so next month's report can say what changed. `take` stores
    /// the present results as that month's (replacing an earlier snapshot of the same month).
    func snapshot(year: Int, month: Int, take: Bool) async throws -> JSONValue {
        if take {
            let city = await model.evaluate(year: year, scope: .city)
            let towns = try await townsTable(year: year)
            let results: JSONValue = ["city": .array(city.map(\.json)), "towns": towns["towns"] ?? .array([])]
            let now = Timestamp.now()
            try await store.database.write { db in
                try db.run(
                    "INSERT INTO snapshots (year, month, scope, results, taken_at) VALUES (?, ?, 'all', ?, ?) "
                        + "ON CONFLICT (year, month, scope) DO UPDATE SET results = excluded.results, taken_at = excluded.taken_at",
                    [year, month, JSONWriter.string(results), now.millis])
            }
        }
        let stored = try await store.database.read { db -> (String, Int64)? in
            let row = try db.row("SELECT results, taken_at FROM snapshots WHERE year = ? AND month = ? AND scope = 'all'", [year, month])
            return row.map { ($0[0], $0[1]) }
        }
        guard let (text, takenAt) = stored else { return ["year": .int(Int64(year)), "month": .int(Int64(month)), "snapshot": .null] }
        return [
            "year": .int(Int64(year)), "month": .int(Int64(month)), "taken_at": .string(Timestamp(millis: takenAt).description),
            "snapshot": (try? JSONParser.parse(text)) ?? .null,
        ]
    }
}
