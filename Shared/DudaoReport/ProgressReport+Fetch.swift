import DudaoCore

extension ProgressReport {
    /// One query to `dudao-indicators`: its result body, or an error (a nack).
    public typealias Ask = (_ type: String, _ body: JSONValue) async throws -> JSONValue

    /// Everything the report of `month`/`year` needs, from `dudao-indicators`: the city's
    /// results, every town's, the previous month's snapshot and each indicator's history.
    /// `take`: also keep the present results as this month's snapshot (what `dudao report`
    /// does; the dashboard only reads, so browsing an old month never overwrites it).
    public static func fetch(year: Int, month: Int, take: Bool, ask: Ask) async throws -> ProgressReport {
        let yearValue = JSONValue.int(Int64(year))
        let city = try await ask("indicators.evaluate", ["year": yearValue, "scope": "city"])
        let towns = try await ask("indicators.towns", ["year": yearValue])
        if take {
            _ = try await ask("indicators.snapshot", ["year": yearValue, "month": .int(Int64(month)), "take": true])
        }
        let previous: JSONValue? =
            month > 1
            ? try await ask("indicators.snapshot", ["year": yearValue, "month": .int(Int64(month - 1))])["snapshot"]
            : try await ask("indicators.snapshot", ["year": .int(Int64(year - 1)), "month": 12])["snapshot"]
        var histories: [String: JSONValue] = [:]
        for indicator in city["indicators"]?.arrayValue ?? [] {
            guard let id = indicator["id"]?.stringValue else { continue }
            histories[id] = try await ask("indicators.history", ["indicator": .string(id), "scope": "city"])["history"]
        }
        return ProgressReport(
            year: year, month: month, city: city["indicators"]?.arrayValue ?? [], towns: towns["towns"]?.arrayValue ?? [],
            previous: previous == .null ? nil : previous, histories: histories, generatedAt: Timestamp.now())
    }

    /// The CSV with a UTF-8 byte-order mark first, so Excel reads the Chinese names as UTF-8.
    public func csvWithByteOrderMark() -> String { "\u{FEFF}" + csv() }
}
