import DudaoCore
import DudaoFeeds
import DudaoStorage
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// The ingest's state on PostgreSQL, for deployments that outgrow one host: several
/// `dudao-ingest` instances share one database (and its replicas), any of them accepting any feed.
///
/// **Commit order is log order.** Every batch transaction starts by locking the one row of
/// `log_head` (`SELECT … FOR UPDATE`) and numbers its records from there; the row lock is held
/// until the COMMIT is durable. Batches from different instances therefore commit one after
/// the other in sequence order, and a reader never sees record n + 1 before record n: the log
/// a consumer follows has no holes, whichever instance wrote what. (A `SEQUENCE` would hand out
/// numbers before commit, and a transaction holding 41 could commit after one holding 42 had
/// been read.) The same lock makes the dedupe and `as_of` checks exact across instances: two
/// instances given the same (sender, id) at once answer `accepted` once and `duplicate` once.
/// What runs in parallel across instances is everything before the transaction: TLS,
/// framing, JSON and validation; each transaction is one group commit of a whole batch in five
/// round trips whatever its size (BEGIN, the lock, both lookups, every write, COMMIT: arrays
/// through `unnest`), not one per feed.
final class PostgresIngestStore: IngestStore {
    static let schema = "dudao_ingest"

    /// The writer thread's connection (commits).
    private let writer: BlockingPostgres
    /// Subscriptions and queries, round robin.
    private let readers: [BlockingPostgres]
    /// Compaction and consumer positions: never behind a batch commit.
    private let upkeep: BlockingPostgres
    private let nextReader = NIOLockedValueBox(0)
    /// `log_head.registry_seq` as of this instance's registry: another instance registering a
    /// town moves it, and the next batch reloads the registry first.
    private let registrySeq = NIOLockedValueBox<Int64>(-1)

    init(location: PostgresLocation, readers count: Int = 4, logger: Logger) throws {
        func open(_ role: String) -> BlockingPostgres {
            BlockingPostgres(location: location, schema: Self.schema, applicationName: "dudao-ingest \(role)", logger: logger)
        }
        writer = open("writer")
        readers = (0..<max(1, count)).map { _ in open("reader") }
        upkeep = open("upkeep")
        try Self.migrations.migrate(writer)
    }

    static var migrations: PostgresMigrations {
        var migrations = PostgresMigrations(schema: schema)
        migrations.register(
            "v1-log",
            [
                """
                CREATE TABLE log (
                    seq BIGINT PRIMARY KEY,
                    sender TEXT NOT NULL,
                    feed_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    key TEXT NOT NULL,
                    as_of BIGINT NOT NULL,
                    received_at BIGINT NOT NULL,
                    body TEXT NOT NULL)
                """,
                """
                CREATE TABLE current (
                    type TEXT NOT NULL,
                    key TEXT NOT NULL,
                    as_of BIGINT NOT NULL,
                    seq BIGINT NOT NULL,
                    PRIMARY KEY (type, key))
                """,
                "CREATE INDEX current_seq ON current (seq)",
                """
                CREATE TABLE dedupe (
                    sender TEXT NOT NULL,
                    feed_id TEXT NOT NULL,
                    received_at BIGINT NOT NULL,
                    PRIMARY KEY (sender, feed_id))
                """,
                "CREATE INDEX dedupe_age ON dedupe (received_at)",
                "CREATE TABLE consumers (name TEXT PRIMARY KEY, position BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
                """
                CREATE TABLE diverged (
                    name TEXT PRIMARY KEY, log_head BIGINT NOT NULL, position BIGINT NOT NULL, at BIGINT NOT NULL)
                """,
                // The last sequence number handed out and the last registry record: one row,
                // locked by every batch (see the type's comment).
                """
                CREATE TABLE log_head (
                    id INT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, registry_seq BIGINT NOT NULL)
                """,
                "INSERT INTO log_head (id, seq, registry_seq) VALUES (1, 0, 0)",
            ])
        return migrations
    }

    private var reader: BlockingPostgres {
        readers[nextReader.withLockedValue { next in
            next = (next + 1) % readers.count
            return next
        }]
    }

    func loadRegistry() throws -> Registry {
        try writer.transaction { session in
            let seq = try session.query("SELECT registry_seq FROM log_head WHERE id = 1").single(Int64.self) ?? 0
            let registry = try Self.fetchRegistry(session)
            registrySeq.withLockedValue { $0 = seq }
            return registry
        }
    }

    private static func fetchRegistry(_ session: PostgresSession) throws -> Registry {
        var registry = Registry()
        // Towns before institutions: an institution refers to its town.
        for type in [FeedType.registryTown, .registryInstitution] {
            let rows = try session.query(
                "SELECT l.body FROM current c JOIN log l ON l.seq = c.seq WHERE c.type = \(type.rawValue) ORDER BY l.seq")
            for row in rows {
                let text = try row.decode(String.self)
                guard let body = (try? JSONParser.parse(text))?.objectValue,
                    case .success(let feed) = FeedValidator.validate(type: type.rawValue, body: body)
                else { continue }
                registry.apply(feed)
            }
        }
        return registry
    }

    private struct DedupeKey: Hashable {
        var sender: String
        var feedID: String
    }

    private struct CurrentKey: Hashable {
        var type: String
        var key: String
    }

    private struct Stored {
        var asOf: Int64
        var seq: Int64
        /// Known when written by this batch; read from the log on an `as_of` tie otherwise.
        var body: String?
    }

    /// The rows one batch adds, column by column (bound as arrays, inserted through `unnest`).
    private struct Columns {
        var seq: [Int64] = []
        var sender: [String] = []
        var feedID: [String] = []
        var type: [String] = []
        var key: [String] = []
        var asOf: [Int64] = []
        var receivedAt: [Int64] = []
        var body: [String] = []
    }

    func commit(_ batch: [CommitRequest], registry: inout Registry, now: Timestamp) throws -> [CommitOutcome] {
        var working = registry
        var newRegistrySeq: Int64 = 0
        let outcomes = try writer.transaction { session -> [CommitOutcome] in
            let head = try session.query("SELECT seq, registry_seq FROM log_head WHERE id = 1 FOR UPDATE")
            guard let (startSeq, storedRegistrySeq) = try head.first?.decode((Int64, Int64).self) else {
                throw StorageConfigError("log_head has no row: the schema \(Self.schema) is damaged")
            }
            newRegistrySeq = storedRegistrySeq
            if storedRegistrySeq != registrySeq.withLockedValue({ $0 }) {
                working = try Self.fetchRegistry(session)
            }
            // Both lookups in one statement (one round trip), after the lock: a statement's
            // snapshot is taken when it starts, so it sees every batch committed before ours.
            var seen: [DedupeKey: Int64] = [:]
            var current: [CurrentKey: Stored] = [:]
            for row in try session.query(
                """
                SELECT 0::int4, d.sender, d.feed_id, d.received_at, 0::int8 FROM dedupe d
                JOIN unnest(\(batch.map(\.sender))::text[], \(batch.map(\.feedID))::text[]) AS u(sender, feed_id)
                ON d.sender = u.sender AND d.feed_id = u.feed_id
                UNION ALL
                SELECT 1::int4, c.type, c.key, c.as_of, c.seq FROM current c
                JOIN unnest(\(batch.map(\.currentKey.type))::text[], \(batch.map(\.currentKey.key))::text[]) AS u(type, key)
                ON c.type = u.type AND c.key = u.key
                """)
            {
                let (table, first, second, number, seq) = try row.decode((Int32, String, String, Int64, Int64).self)
                if table == 0 {
                    seen[DedupeKey(sender: first, feedID: second)] = number
                } else {
                    current[CurrentKey(type: first, key: second)] = Stored(asOf: number, seq: seq)
                }
            }
            var added = Columns()
            var outcomes: [CommitOutcome] = []
            outcomes.reserveCapacity(batch.count)
            var seq = startSeq
            for request in batch {
                let dedupeKey = DedupeKey(sender: request.sender, feedID: request.feedID)
                let currentKey = CurrentKey(type: request.currentKey.type, key: request.currentKey.key)
                let verdict = try IngestAdmission.verdict(request, registry: working, now: now, seenAt: seen[dedupeKey]) {
                    current[currentKey].map { stored in
                        IngestAdmission.Current(asOf: stored.asOf) {
                            try Array((stored.body ?? session.query("SELECT body FROM log WHERE seq = \(stored.seq)").single(String.self) ?? "").utf8)
                        }
                    }
                }
                if case .answer(let outcome) = verdict {
                    outcomes.append(outcome)
                    continue
                }
                let asOf = request.asOfMillis
                let bodyText = String(decoding: request.body, as: UTF8.self)
                seq += 1
                added.seq.append(seq)
                added.sender.append(request.sender)
                added.feedID.append(request.feedID)
                added.type.append(currentKey.type)
                added.key.append(currentKey.key)
                added.asOf.append(asOf)
                added.receivedAt.append(request.receivedAt.millis)
                added.body.append(bodyText)
                current[currentKey] = Stored(asOf: asOf, seq: seq, body: bodyText)
                seen[dedupeKey] = request.receivedAt.millis
                // Only registry records change it (and the feed is not copied out for others).
                if request.feed.type.isRegistry {
                    newRegistrySeq = seq
                    working.apply(request.feed)
                }
                outcomes.append(.accepted(seq: seq))
            }
            guard seq > startSeq else { return outcomes }
            try Self.write(added, head: seq, registrySeq: newRegistrySeq, session: session)
            return outcomes
        }
        registry = working
        registrySeq.withLockedValue { $0 = newRegistrySeq }
        return outcomes
    }

    /// Inserts a batch's records, points their keys at them, remembers their ids and moves
    /// `log_head`: one statement (data-modifying CTEs on four tables), whatever the batch's size.
    private static func write(_ added: Columns, head: Int64, registrySeq: Int64, session: PostgresSession) throws {
        // One row per key and per id (the batch's last), as ON CONFLICT DO UPDATE needs.
        var lastOfKey: [CurrentKey: Int] = [:]
        var lastOfID: [DedupeKey: Int] = [:]
        for index in added.seq.indices {
            lastOfKey[CurrentKey(type: added.type[index], key: added.key[index])] = index
            lastOfID[DedupeKey(sender: added.sender[index], feedID: added.feedID[index])] = index
        }
        let keyRows = lastOfKey.values.sorted()
        let idRows = lastOfID.values.sorted()
        try session.execute(
            """
            WITH records AS (
                INSERT INTO log (seq, sender, feed_id, type, key, as_of, received_at, body)
                SELECT * FROM unnest(\(added.seq)::bigint[], \(added.sender)::text[], \(added.feedID)::text[], \(added.type)::text[],
                                     \(added.key)::text[], \(added.asOf)::bigint[], \(added.receivedAt)::bigint[], \(added.body)::text[])),
            keys AS (
                INSERT INTO current (type, key, as_of, seq)
                SELECT * FROM unnest(\(keyRows.map { added.type[$0] })::text[], \(keyRows.map { added.key[$0] })::text[],
                                     \(keyRows.map { added.asOf[$0] })::bigint[], \(keyRows.map { added.seq[$0] })::bigint[])
                ON CONFLICT (type, key) DO UPDATE SET as_of = excluded.as_of, seq = excluded.seq),
            ids AS (
                INSERT INTO dedupe (sender, feed_id, received_at)
                SELECT * FROM unnest(\(idRows.map { added.sender[$0] })::text[], \(idRows.map { added.feedID[$0] })::text[],
                                     \(idRows.map { added.receivedAt[$0] })::bigint[])
                ON CONFLICT (sender, feed_id) DO UPDATE SET received_at = excluded.received_at)
            UPDATE log_head SET seq = \(head), registry_seq = \(registrySeq) WHERE id = 1
            """)
    }

    func readLog(after: Int64, limit: Int) throws -> [LogEntry] {
        try reader.withSession { session in
            try session.query(
                """
                SELECT seq, sender, feed_id, type, key, as_of, received_at, body FROM log
                WHERE seq > \(after) ORDER BY seq LIMIT \(limit)
                """
            ).map { row in
                let (seq, sender, feedID, type, key, asOf, receivedAt, body) = try row.decode(
                    (Int64, String, String, String, String, Int64, Int64, String).self)
                return LogEntry(seq: seq, sender: sender, feedID: feedID, type: type, key: key, asOf: asOf, receivedAt: receivedAt, body: body)
            }
        }
    }

    func head() throws -> Int64 {
        try reader.withSession { session in try session.query("SELECT seq FROM log_head WHERE id = 1").single(Int64.self) ?? 0 }
    }

    func setConsumerPosition(name: String, position: Int64, now: Timestamp) throws {
        try upkeep.withSession { session in
            try session.execute(
                """
                INSERT INTO consumers (name, position, updated_at) VALUES (\(name), \(position), \(now.millis))
                ON CONFLICT (name) DO UPDATE SET position = GREATEST(consumers.position, excluded.position), updated_at = excluded.updated_at
                """)
        }
    }

    func consumerPositions() throws -> [String: Int64] {
        try reader.withSession { session in
            var positions: [String: Int64] = [:]
            for row in try session.query("SELECT name, position FROM consumers") {
                let (name, position) = try row.decode((String, Int64).self)
                positions[name] = position
            }
            return positions
        }
    }

    func divergence(name: String) throws -> Int64? {
        try reader.withSession { session in try session.query("SELECT log_head FROM diverged WHERE name = \(name)").single(Int64.self) }
    }

    func setDivergence(name: String, logHead: Int64, position: Int64, now: Timestamp) throws {
        try upkeep.withSession { session in
            try session.execute(
                """
                INSERT INTO diverged (name, log_head, position, at) VALUES (\(name), \(logHead), \(position), \(now.millis))
                ON CONFLICT (name) DO NOTHING
                """)
        }
    }

    func clearDivergence(name: String) throws {
        try upkeep.withSession { session in try session.execute("DELETE FROM diverged WHERE name = \(name)") }
    }

    func compact(policy: RetentionPolicy, now: Timestamp) throws -> CompactionReport {
        let positions = try consumerPositions()
        let safe = policy.safePosition(positions)
        var report = CompactionReport()
        let chunk = 20_000
        // Sequence numbers come from log_head, never from MAX(seq): removing the newest row
        // hands its number to nobody, so, unlike on SQLite, it may go too.
        while true {
            let removed = try upkeep.withSession { session in
                try session.execute(
                    """
                    DELETE FROM log WHERE seq IN (
                        SELECT seq FROM log WHERE seq <= \(safe)
                        AND NOT EXISTS (SELECT 1 FROM current c WHERE c.seq = log.seq) LIMIT \(chunk))
                    """)
            }
            report.supersededRemoved += removed
            if removed < chunk { break }
        }
        let eventCutoff = now.millis - policy.eventRetentionMillis
        for type in RetentionPolicy.eventTypes {
            while true {
                let removed = try upkeep.transaction { session in
                    let gone = try session.query(
                        "SELECT seq FROM log WHERE type = \(type) AND seq <= \(safe) AND received_at < \(eventCutoff) LIMIT \(chunk)"
                    ).map { try $0.decode(Int64.self) }
                    guard !gone.isEmpty else { return 0 }
                    try session.execute("DELETE FROM current WHERE seq = ANY(\(gone)::bigint[])")
                    return try session.execute("DELETE FROM log WHERE seq = ANY(\(gone)::bigint[])")
                }
                report.eventsRemoved += removed
                if removed < chunk { break }
            }
        }
        report.dedupeRemoved = try upkeep.withSession { session in
            try session.execute("DELETE FROM dedupe WHERE received_at < \(now.millis - policy.dedupeWindowMillis)")
        }
        return report
    }

    func counts() throws -> (log: Int, keys: Int, dedupe: Int) {
        try reader.withSession { session in
            let row = try session.query(
                "SELECT (SELECT COUNT(*) FROM log), (SELECT COUNT(*) FROM current), (SELECT COUNT(*) FROM dedupe)")
            guard let (log, keys, dedupe) = try row.first?.decode((Int64, Int64, Int64).self) else { return (0, 0, 0) }
            return (Int(log), Int(keys), Int(dedupe))
        }
    }

    /// Closes every connection.
    func close() {
        for database in [writer, upkeep] + readers { database.close() }
    }
}
