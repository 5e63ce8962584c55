import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import DudaoStorage
import Logging

/// The indicators service's own durable state: the current version of every record it
/// consumed, the last status of every (indicator, year, scope) (so a restart never raises a
/// transition twice), monthly snapshots for the report, the log position and the outbox.
/// On a SQLite file (the default) or in schema `dudao_indicators` of a PostgreSQL database.
final class IndicatorsStore: Sendable {
    let database: any SQLDatabase

    static let schema = "dudao_indicators"

    /// - Parameter exclusive: refuse to start beside another instance on the same PostgreSQL schema.
    init(location: StoreLocation, logger: Logger, exclusive: Bool = false) throws {
        database = try location.open(
            schema: Self.schema, applicationName: "dudao-indicators", migrations: Self.migrations, logger: logger, exclusive: exclusive)
    }

    /// A SQLite file (tests, tools).
    convenience init(path: String) throws {
        try self.init(location: .sqlite(path: path), logger: Logger(label: "dudao-indicators"))
    }

    static let migrations: [SQLMigration] = [
        SQLMigration(
            "v1-indicators",
            sqlite: """
                CREATE TABLE records (type TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (type, key)) WITHOUT ROWID;
                CREATE TABLE statuses (
                    indicator TEXT NOT NULL, year INTEGER NOT NULL, scope TEXT NOT NULL, status TEXT NOT NULL,
                    value REAL, since INTEGER NOT NULL, PRIMARY KEY (indicator, year, scope)) WITHOUT ROWID;
                CREATE TABLE snapshots (
                    year INTEGER NOT NULL, month INTEGER NOT NULL, scope TEXT NOT NULL, results TEXT NOT NULL,
                    taken_at INTEGER NOT NULL, PRIMARY KEY (year, month, scope)) WITHOUT ROWID;
                """,
            postgres: [
                "CREATE TABLE records (type TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (type, key))",
                """
                CREATE TABLE statuses (
                    indicator TEXT NOT NULL, year BIGINT NOT NULL, scope TEXT NOT NULL, status TEXT NOT NULL,
                    value DOUBLE PRECISION, since BIGINT NOT NULL, PRIMARY KEY (indicator, year, scope))
                """,
                """
                CREATE TABLE snapshots (
                    year BIGINT NOT NULL, month BIGINT NOT NULL, scope TEXT NOT NULL, results TEXT NOT NULL,
                    taken_at BIGINT NOT NULL, PRIMARY KEY (year, month, scope))
                """,
            ]),
        // When the ingest received each record: a heartbeat's liveness clock (DeviceOnline);
        // rows from before it fall back to the heartbeat's own `at` until the next one.
        SQLMigration(
            "v2-records-received-at",
            sqlite: "ALTER TABLE records ADD COLUMN received_at INTEGER",
            postgres: ["ALTER TABLE records ADD COLUMN received_at BIGINT"]),
        // When each record (type, key) first arrived: data timeliness (Completeness.swift). Rows
        // from before it take their current version's receipt.
        SQLMigration(
            "v3-arrivals",
            sqlite: """
                CREATE TABLE arrivals (type TEXT NOT NULL, key TEXT NOT NULL, first_received_at INTEGER NOT NULL,
                    PRIMARY KEY (type, key)) WITHOUT ROWID;
                INSERT INTO arrivals SELECT type, key, received_at FROM records WHERE received_at IS NOT NULL;
                """,
            postgres: [
                "CREATE TABLE arrivals (type TEXT NOT NULL, key TEXT NOT NULL, first_received_at BIGINT NOT NULL, PRIMARY KEY (type, key))"
            ]),
        // Where each (report, year, town) stands in reminding: none, reminded, overdue, complete
        // (Reminders.swift), so a check raises each event once.
        SQLMigration(
            "v4-reminders",
            sqlite: """
                CREATE TABLE reminders (type TEXT NOT NULL, year INTEGER NOT NULL, town TEXT NOT NULL, state TEXT NOT NULL,
                    PRIMARY KEY (type, year, town)) WITHOUT ROWID;
                """,
            postgres: [
                "CREATE TABLE reminders (type TEXT NOT NULL, year BIGINT NOT NULL, town TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (type, year, town))"
            ]),
        ConsumerPosition.migration,
        Outbox.migration,
        // First arrivals are kept for reports only (Completeness.swift).
        SQLMigration(
            "v5-arrivals-reports-only",
            sqlite: "DELETE FROM arrivals WHERE type NOT IN \(IndicatorsStore.reportTypesSQL)",
            postgres: ["DELETE FROM arrivals WHERE type NOT IN \(IndicatorsStore.reportTypesSQL)"]),
    ]

    /// `('preschool.census', …)`: the report types (``ReportingSchedule/isReport(_:)``) as an SQL list.
    static let reportTypesSQL = "(" + FeedType.allCases.filter(ReportingSchedule.isReport).map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    struct StoredStatus: Sendable {
        var status: IndicatorStatus
        var since: Int64
    }

    /// When each report first arrived, by ``Arrivals/key(_:_:)``.
    func loadArrivals() throws -> [String: Int64] {
        try database.read { db in
            var arrivals: [String: Int64] = [:]
            for row in try db.rows("SELECT type, key, first_received_at FROM arrivals WHERE type IN \(Self.reportTypesSQL)") {
                let type: String = row[0]
                let key: String = row[1]
                arrivals[Arrivals.key(type, key)] = row[2]
            }
            return arrivals
        }
    }

    /// Everything needed to rebuild the in-memory state at start.
    func load() throws -> (records: [(FeedType, String, JSONObject, Timestamp?)], statuses: [StatusKey: StoredStatus]) {
        try database.read { db in
            var records: [(FeedType, String, JSONObject, Timestamp?)] = []
            for row in try db.rows("SELECT type, key, body, received_at FROM records") {
                let typeText: String = row[0]
                let body: String = row[2]
                let receivedAt: Int64? = row[3]
                guard let type = FeedType(rawValue: typeText), let object = (try? JSONParser.parse(body))?.objectValue else { continue }
                records.append((type, row[1], object, receivedAt.map(Timestamp.init(millis:))))
            }
            var statuses: [StatusKey: StoredStatus] = [:]
            for row in try db.rows("SELECT indicator, year, scope, status, since FROM statuses") {
                statuses[StatusKey(indicator: row[0], year: row[1], scope: row[2])] = StoredStatus(status: IndicatorStatus(rawValue: row[3]) ?? .noData, since: row[4])
            }
            return (records, statuses)
        }
    }

    func position() throws -> Int64 { try database.read { db in try ConsumerPosition.load(db) } }
}

/// An (indicator, year, scope) whose status is remembered.
struct StatusKey: Hashable, Sendable {
    var indicator: String
    var year: Int
    var scope: String
}
