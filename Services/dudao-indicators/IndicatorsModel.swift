import DudaoLinks
import DudaoCore
import DudaoWire
import DudaoEvaluation
import DudaoFeeds
import DudaoStorage
import Logging

/// The live evaluation: the catalog's engine over every consumed record, the remembered status
/// of each (indicator, year, scope), and the transitions that become alerts.
///
/// An actor: batches from the log and queries take turns; the engine itself is not thread-safe.
actor IndicatorsModel {
    /// Read by this actor's extensions (Readiness.swift) only.
    let engine: IndicatorEngine
    let store: IndicatorsStore
    let logger: Logger
    let configuredYear: Int
    private var statuses: [StatusKey: IndicatorsStore.StoredStatus]
    private(set) var dataYears: Set<Int> = []
    private(set) var names = PlaceNames()

    /// Which reports institutions owe and by when.
    let schedule: ReportingSchedule
    /// When each record first arrived (``Arrivals``).
    private(set) var arrivals: [String: Int64]

    init(catalog: Catalog, schedule: ReportingSchedule = .none, store: IndicatorsStore, currentYear: Int, logger: Logger) throws {
        engine = IndicatorEngine(catalog: catalog)
        self.schedule = schedule
        arrivals = try store.loadArrivals()
        self.store = store
        self.logger = logger
        self.configuredYear = currentYear
        let loaded = try store.load()
        // Registry first, so institutions find their towns whatever order the table returns.
        let ordered = loaded.records.sorted { Self.applyOrder($0.0) < Self.applyOrder($1.0) }
        var names = PlaceNames()
        var years: Set<Int> = []
        for (type, _, body, receivedAt) in ordered {
            guard let feed = Self.decode(type, body, logger: logger) else { continue }
            engine.load(feed, receivedAt: receivedAt)
            names.note(feed.feed)
            if let year = feed.feed.year { years.insert(Int(year)) }
        }
        self.names = names
        self.dataYears = years
        statuses = loaded.statuses
        logger.info("state loaded", metadata: ["records": "\(loaded.records.count)", "statuses": "\(loaded.statuses.count)"])
    }

    /// A record's body decoded by the ingest's validator; one this build refuses (stored by an
    /// older, laxer build) is logged and skipped.
    static func decode(_ type: FeedType, _ body: JSONObject, logger: Logger) -> ValidatedFeed? {
        accepted(FeedValidator.validate(type, body: body), type, logger: logger)
    }

    /// ``decode(_:_:logger:)`` for a record received (a heartbeat may come decoded: ``LogRecord/validated()``).
    static func decode(_ record: LogRecord, logger: Logger) -> ValidatedFeed? {
        accepted(record.validated(), record.type, logger: logger)
    }

    private static func accepted(_ result: Result<ValidatedFeed, WireError>, _ type: FeedType, logger: Logger) -> ValidatedFeed? {
        switch result {
        case .success(let feed):
            return feed
        case .failure(let error):
            logger.warning("skipping a record that does not validate", metadata: ["type": "\(type.rawValue)", "error": "\(error.message)"])
            return nil
        }
    }

    static func applyOrder(_ type: FeedType) -> Int {
        switch type {
        case .registryTown: 0
        case .registryInstitution: 1
        default: 2
        }
    }

    var currentYear: Int { currentYear(at: .now()) }

    /// `current_year`, or the calendar year at `now` when it is 0.
    func currentYear(at now: Timestamp) -> Int { configuredYear > 0 ? configuredYear : Self.calendarYear(now) }

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
        // Keys whose first arrival this batch sets (or moves earlier), with what memory held
        // before: only they are written, and memory goes back if the transaction fails.
        var arrived: [(index: Int, arrival: String, before: Int64?)] = []
        let affected = engine.applyBatch { apply in
            for (index, record) in batch.enumerated() {
                if ReportingSchedule.isReport(record.type) {
                    let arrival = Arrivals.key(record.type.rawValue, record.key)
                    let before = arrivals[arrival]
                    if before.map({ $0 > record.receivedAt.millis }) ?? true {
                        arrived.append((index, arrival, before))
                        arrivals[arrival] = record.receivedAt.millis
                    }
                }
                guard let feed = Self.decode(record, logger: logger) else { continue }
                apply(feed, record.receivedAt)
                names.note(feed.feed)
                if let year = feed.feed.year { dataYears.insert(Int(year)) }
            }
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
        do {
            try write(batch, arrived: arrived.map(\.index), changed: changed, events: events, now: now)
        } catch {
            for (_, arrival, before) in arrived.reversed() { arrivals[arrival] = before }
            throw error
        }
        for (key, stored, _) in changed { statuses[key] = stored }
        if !events.isEmpty { logger.info("transitions", metadata: ["alerts": "\(events.count)", "through": "\(last.seq)"]) }
    }

    /// Stores a batch's records, the first arrivals it sets (the indexes of those records), its
    /// changed statuses, its alerts and the position, in one transaction.
    private func write(
        _ batch: [LogRecord], arrived: [Int], changed: [(StatusKey, IndicatorsStore.StoredStatus, IndicatorResult)],
        events: [AlertEvent], now: Timestamp
    ) throws {
        guard let last = batch.last else { return }
        try store.database.write { db in
            try Self.upsertRecords(batch, db)
            for index in arrived {
                let record = batch[index]
                try db.run(
                    "INSERT INTO arrivals (type, key, first_received_at) VALUES (?, ?, ?) ON CONFLICT (type, key) DO UPDATE SET "
                        + "first_received_at = CASE WHEN excluded.first_received_at < arrivals.first_received_at "
                        + "THEN excluded.first_received_at ELSE arrivals.first_received_at END",
                    [record.type.rawValue, record.key, record.receivedAt.millis])
            }
            for (key, stored, result) in changed {
                try db.run(
                    "INSERT INTO statuses (indicator, year, scope, status, value, since) VALUES (?, ?, ?, ?, ?, ?) "
                        + "ON CONFLICT (indicator, year, scope) DO UPDATE SET status = excluded.status, value = excluded.value, since = excluded.since",
                    [key.indicator, key.year, key.scope, stored.status.rawValue, result.value, stored.since])
            }
            for event in events { try Outbox.enqueue(db, id: event.id, frame: event.frame, now: now) }
            try ConsumerPosition.save(db, last.seq)
        }
    }

    /// Stores each record's body, the last one of a key in `batch` (log order) winning, many
    /// rows per statement: one statement per record cost twice the instructions.
    private static func upsertRecords(_ batch: [LogRecord], _ db: any SQLConnection) throws {
        let keys = batch.map { RecordKey(type: $0.type, key: $0.key) }
        var last: [RecordKey: Int] = [:]
        last.reserveCapacity(batch.count)
        for (index, key) in keys.enumerated() { last[key] = index }
        var rows: [Int] = []
        rows.reserveCapacity(last.count)
        for index in batch.indices where last[keys[index]] == index { rows.append(index) }
        try upsertRecordsStatement.run(rows, on: db) { index, arguments in
            let record = batch[index]
            arguments.values.append(.text(record.type.rawValue))
            arguments.values.append(.text(record.key))
            arguments.values.append(.text(record.bodyText))
            arguments.values.append(.integer(record.receivedAt.millis))
        }
    }

    /// A record's row in `records`.
    private struct RecordKey: Hashable {
        let type: FeedType
        let key: String
    }

    /// The upsert of up to 32 records in one statement.
    static let upsertRecordsStatement = MultiRowStatement(
        prefix: "INSERT INTO records (type, key, body, received_at) VALUES", row: "(?, ?, ?, ?)",
        suffix: "ON CONFLICT (type, key) DO UPDATE SET body = excluded.body, received_at = excluded.received_at")

    // MARK: queries

    /// The indicators of catalog `name` (nil: the plan's).
    func evaluate(year: Int, scope: Scope, catalog name: String? = nil) -> [IndicatorResult] {
        engine.evaluate(year: year, scope: scope, now: .now(), catalog: name)
    }

    /// The catalogs loaded, the plan's first, with their Chinese titles and indicator ids.
    var catalogs: [(name: String, title: String, indicators: [String])] {
        engine.catalog.names.map { name in (name, engine.catalog.titles[name] ?? name, engine.catalog.indicators(of: name).map(\.id)) }
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

    mutating func note(_ feed: Feed) {
        switch feed {
        case .registryTown(let town): towns[town.townID] = town.name
        case .registryInstitution(let institution): institutions[institution.institutionID] = (institution.name, institution.townID)
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
