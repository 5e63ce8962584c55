import DudaoLinks
import DudaoCore
import DudaoWire
import DudaoEvaluation
import DudaoFeeds
import DudaoStorage
import GRDB
import Logging

/// The live evaluation: the catalog's engine over every consumed record, the remembered status
/// of each (indicator, year, scope), and the transitions that become alerts.
///
/// An actor: batches from the log and queries take turns; the engine itself is not thread-safe.
actor IndicatorsModel {
    private let engine: IndicatorEngine
    private let store: IndicatorsStore
    private let logger: Logger
    private let configuredYear: Int
    private var statuses: [StatusKey: IndicatorsStore.StoredStatus]
    private(set) var dataYears: Set<Int> = []
    private(set) var names = PlaceNames()

    init(catalog: Catalog, store: IndicatorsStore, currentYear: Int, logger: Logger) throws {
        engine = IndicatorEngine(catalog: catalog)
        self.store = store
        self.logger = logger
        self.configuredYear = currentYear
        let loaded = try store.load()
        // Registry first, so institutions find their towns whatever order the table returns.
        let ordered = loaded.records.sorted { Self.applyOrder($0.0) < Self.applyOrder($1.0) }
        var names = PlaceNames()
        var years: Set<Int> = []
        for (type, key, body, receivedAt) in ordered {
            engine.load(type: type, key: key, body: body, receivedAt: receivedAt)
            names.note(type: type, body: body)
            if let year = body["year"]?.intValue { years.insert(Int(year)) }
        }
        self.names = names
        self.dataYears = years
        statuses = loaded.statuses
        logger.info("state loaded", metadata: ["records": "\(loaded.records.count)", "statuses": "\(loaded.statuses.count)"])
    }

    static func applyOrder(_ type: FeedType) -> Int {
        switch type {
        case .registryTown: 0
        case .registryInstitution: 1
        default: 2
        }
    }

    var currentYear: Int { configuredYear > 0 ? configuredYear : Self.calendarYear(Timestamp.now()) }

    static func calendarYear(_ time: Timestamp) -> Int {
        Int(String(time.description.prefix(4))) ?? 2025
    }

    /// Years whose status is followed for records without a year: the current year and the
    /// latest year with data.
    private var followedYears: [Int] {
        Array(Set([currentYear] + (dataYears.max().map { [$0] } ?? []))).sorted()
    }

    // MARK: applying the log

    /// Applies a batch of log records: the engine, the statuses, the alerts and the position
    /// are committed in one transaction.
    func apply(_ batch: [LogRecord]) throws {
        guard let last = batch.last else { return }
        var affected = Set<AffectedKey>()
        for record in batch {
            affected.formUnion(engine.apply(type: record.type, key: record.key, body: record.body, receivedAt: record.receivedAt))
            names.note(type: record.type, body: record.body)
            if let year = record.body["year"]?.intValue { dataYears.insert(Int(year)) }
        }
        let now = Timestamp.now()
        var changed: [(StatusKey, IndicatorsStore.StoredStatus, IndicatorResult)] = []
        var events: [AlertEvent] = []
        var seen = Set<StatusKey>()
        for key in affected {
            for year in key.year.map({ [$0] }) ?? followedYears {
                let statusKey = StatusKey(indicator: key.indicator, year: year, scope: key.scope.text)
                guard seen.insert(statusKey).inserted,
                    let result = engine.evaluate(indicator: key.indicator, year: year, scope: key.scope, now: now)
                else { continue }
                let old = statuses[statusKey]?.status ?? .noData
                guard old != result.status else { continue }
                let stored = IndicatorsStore.StoredStatus(status: result.status, since: now.millis)
                changed.append((statusKey, stored, result))
                if let event = Transition.event(
                    from: old, result: result, key: statusKey, scope: key.scope, names: names, cause: last.seq, at: now)
                {
                    events.append(event)
                }
            }
        }
        try store.pool.write { db in
            let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO records (type, key, body, received_at) VALUES (?, ?, ?, ?)")
            for record in batch {
                try upsert.execute(
                    arguments: [record.type.rawValue, record.key, JSONWriter.string(.object(record.body)), record.receivedAt.millis])
            }
            let status = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO statuses (indicator, year, scope, status, value, since) VALUES (?, ?, ?, ?, ?, ?)")
            for (key, stored, result) in changed {
                try status.execute(arguments: [key.indicator, key.year, key.scope, stored.status.rawValue, result.value, stored.since])
            }
            for event in events { try Outbox.enqueue(db, id: event.id, frame: event.frame, now: now) }
            try ConsumerPosition.save(db, last.seq)
        }
        for (key, stored, _) in changed { statuses[key] = stored }
        if !events.isEmpty { logger.info("transitions", metadata: ["alerts": "\(events.count)", "through": "\(last.seq)"]) }
    }

    // MARK: queries

    func evaluate(year: Int, scope: Scope) -> [IndicatorResult] {
        engine.evaluate(year: year, scope: scope, now: .now())
    }

    func evaluate(indicator: String, year: Int, scope: Scope) -> IndicatorResult? {
        engine.evaluate(indicator: indicator, year: year, scope: scope, now: .now())
    }

    func contributors(indicator: String, year: Int, scope: Scope, limit: Int) -> [JSONValue] {
        engine.contributors(indicator: indicator, year: year, scope: scope, now: .now(), limit: limit)
    }

    var towns: [String] { engine.towns }

    /// Since when the (indicator, year, scope) has had its present status.
    func since(_ key: StatusKey) -> Int64? { statuses[key]?.since }

    /// The years to show in a history: from the first year with data (or 2023) to the latest of
    /// the data and the current year.
    var historyYears: [Int] {
        let first = min(dataYears.min() ?? 2023, 2023)
        let last = max(dataYears.max() ?? currentYear, currentYear)
        return Array(first...last)
    }
}

/// Chinese names of towns and institutions, for what people read.
struct PlaceNames: Sendable {
    var towns: [String: String] = [:]
    var institutions: [String: (name: String, town: String)] = [:]

    mutating func note(type: FeedType, body: JSONObject) {
        switch type {
        case .registryTown:
            if let id = body["town_id"]?.stringValue { towns[id] = body["name"]?.stringValue ?? id }
        case .registryInstitution:
            if let id = body["institution_id"]?.stringValue {
                institutions[id] = (body["name"]?.stringValue ?? id, body["town_id"]?.stringValue ?? "")
            }
        default: break
        }
    }

    func name(of scope: Scope) -> String {
        switch scope {
        case .city: "全市"
        case .town(let id): towns[id] ?? id
        case .institution(let id): institutions[id]?.name ?? id
        }
    }

    func town(of scope: Scope) -> String? {
        switch scope {
        case .city: nil
        case .town(let id): id
        case .institution(let id): institutions[id]?.town
        }
    }
}
