import DudaoCore
import DudaoFeeds
import DudaoStorage
import GRDB

/// The embedded default store: one SQLite file in WAL mode with `synchronous = FULL` (the WAL is
/// fsync'd at every commit; NORMAL would acknowledge before the disk), so a committed
/// transaction survives `kill -9` and a power cut.
final class SQLiteIngestStore: IngestStore {
    private let pool: DatabasePool
    /// Every key's current version (the store keeps no table of them).
    let versions = CurrentVersions()
    /// The (sender, id) pairs of `dedupe` and of the pending ones, to skip the lookups for a new one.
    let seen: SeenFeeds
    /// The pairs of the newest records, in the log but not yet copied into `dedupe`.
    let pending: PendingPairs

    /// - Parameters:
    ///   - dedupeWindowMillis: how long a stored (sender, id) answers `duplicate` (the service
    ///     passes its configured window; no request may use a longer one).
    ///   - pendingLimits: how many (sender, id) pairs wait in the log only (tests set small ones).
    init(path: String, dedupeWindowMillis: Int64 = 7 * 86_400_000, pendingLimits: PendingPairs.Limits = .init()) throws {
        pool = try DurableDatabase.open(path: path, migrator: Self.migrator)
        seen = SeenFeeds(windowMillis: dedupeWindowMillis)
        pending = PendingPairs(
            through: try pool.read { db in try Int64.fetchOne(db, sql: "SELECT through FROM dedupe_mark") ?? 0 }, limits: pendingLimits)
        try pool.read { db in
            try loadVersions(db)
            let pairs = try Row.fetchCursor(db, sql: "SELECT sender, feed_id, received_at FROM dedupe")
            while let row = try pairs.next() { seen.insert(sender: row[0], id: row[1], at: row[2]) }
            // The pairs not yet copied: the records past the mark.
            let newest = try Row.fetchCursor(
                db, sql: "SELECT seq, sender, feed_id, received_at FROM log WHERE seq > ? ORDER BY seq", arguments: [pending.through])
            while let row = try newest.next() {
                let hash = SeenFeeds.hash(sender: row[1], id: row[2])
                seen.insert(hash, at: row[3])
                pending.append(hash: hash, seq: row[0])
            }
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE log (
                        seq INTEGER PRIMARY KEY,
                        sender TEXT NOT NULL,
                        feed_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        key TEXT NOT NULL,
                        as_of INTEGER NOT NULL,
                        received_at INTEGER NOT NULL,
                        body TEXT NOT NULL);
                    CREATE TABLE current (
                        type TEXT NOT NULL,
                        key TEXT NOT NULL,
                        as_of INTEGER NOT NULL,
                        seq INTEGER NOT NULL,
                        PRIMARY KEY (type, key)) WITHOUT ROWID;
                    CREATE INDEX current_seq ON current(seq);
                    CREATE TABLE dedupe (
                        sender TEXT NOT NULL,
                        feed_id TEXT NOT NULL,
                        received_at INTEGER NOT NULL,
                        PRIMARY KEY (sender, feed_id)) WITHOUT ROWID;
                    CREATE INDEX dedupe_age ON dedupe(received_at);
                    CREATE TABLE consumers (
                        name TEXT PRIMARY KEY,
                        position INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL);
                    """)
        }
        // Consumers refused for a position past the end of the log (a restored ingest database).
        migrator.registerMigration("v2-diverged") { db in
            try db.execute(
                sql: """
                    CREATE TABLE diverged (
                        name TEXT PRIMARY KEY,
                        log_head INTEGER NOT NULL,
                        position INTEGER NOT NULL,
                        at INTEGER NOT NULL);
                    """)
        }
        // Two index writes fewer per stored record: compaction finds a record's current version
        // by its key (the table's primary key) instead of by its sequence number.
        migrator.registerMigration("v3-current-by-key") { db in
            try db.execute(sql: "DROP INDEX current_seq")
        }
        // No table of current versions: each key's is its last record in the log, kept in memory
        // (CurrentVersions). One B-tree write per stored record fewer.
        migrator.registerMigration("v4-current-in-memory") { db in
            try db.execute(sql: "DROP TABLE current")
        }
        // One index write per stored record fewer: compaction finds old pairs by walking the
        // table in key order (``purgeDedupe``), not through an index of their age.
        migrator.registerMigration("v5-dedupe-without-age-index") { db in
            try db.execute(sql: "DROP INDEX dedupe_age")
        }
        // A record's pair is copied into `dedupe` after the record, many at a time
        // (PendingPairs): records up to `through` have theirs there (all of them, so far).
        migrator.registerMigration("v6-dedupe-copied-behind") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dedupe_mark (one INTEGER PRIMARY KEY CHECK (one = 1), through INTEGER NOT NULL);
                    INSERT INTO dedupe_mark (one, through) SELECT 1, COALESCE(MAX(seq), 0) FROM log;
                    """)
        }
        return migrator
    }

    /// Reads every key's current version from the log (its last record).
    private func loadVersions(_ db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT type, key, as_of, seq FROM log ORDER BY seq")
        try versions.load { each in
            while let row = try rows.next() {
                each(CurrentVersions.Key(type: row[0], key: row[1]), CurrentVersions.Version(asOf: row[2], seq: row[3]))
            }
        }
    }

    func loadRegistry() throws -> Registry {
        try pool.read { db in
            var registry = Registry()
            // Towns before institutions: an institution refers to its town.
            for type in [FeedType.registryTown, .registryInstitution] {
                // Each key's current record, by its number (not a scan of the log for the type).
                for version in versions.versions(ofType: type.rawValue) {
                    guard let text = try String.fetchOne(db, sql: "SELECT body FROM log WHERE seq = ?", arguments: [version.seq]),
                        let body = (try? JSONParser.parse(text))?.objectValue,
                        case .success(let feed) = FeedValidator.validate(type: type.rawValue, body: body)
                    else { continue }
                    registry.apply(feed)
                }
            }
            return registry
        }
    }

    /// Decides every feed of the batch first (from memory: the current versions, the filter of
    /// stored pairs, the records this batch stores; SQL only for a pair the filter perhaps holds
    /// and a body on an `as_of` tie), numbering the records to store from the log's head, then
    /// writes them with statements of many rows: a statement's own cost (bind, step, reset) is
    /// paid per ``rowsPerStatement`` records instead of per record. Their (sender, id) pairs are
    /// in the log only, pending (``PendingPairs``); the commit copies older pending pairs into
    /// `dedupe` when there are too many, or when the batch is light and enough wait.
    func commit(_ batch: [CommitRequest], registry: inout Registry, now: Timestamp) throws -> [CommitOutcome] {
        let before = registry
        var outcomes: [CommitOutcome] = []
        outcomes.reserveCapacity(batch.count)
        do {
            var working = registry
            let versions = self.versions
            let seen = self.seen
            let pending = self.pending
            var highest: Int64 = 0
            var added: [(hash: UInt64, seq: Int64, replacing: Int64?)] = []
            var copiedThrough: Int64?
            try forgettingVersionsOnFailure { try pool.write { db in
                added.removeAll()
                if !versions.isValid { try loadVersions(db) }
                let findDedupe = try SQLiteHotStatement(db, "SELECT received_at FROM dedupe WHERE sender = ? AND feed_id = ?")
                let findPending = try SQLiteHotStatement(db, "SELECT sender, feed_id, received_at FROM log WHERE seq = ?")
                let findBody = try SQLiteHotStatement(db, "SELECT body FROM log WHERE seq = ?")
                // The next record's number, as SQLite would give it (compaction never deletes the
                // newest row, so no number is given twice).
                let first = (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM log") ?? 0) + 1
                var stored: [CommitRequest] = []
                for request in batch {
                    // A pair the filter has certainly not been told of is neither in the table
                    // nor among this batch's records.
                    let pair = SeenFeeds.hash(sender: request.sender, id: request.feedID)
                    var seenAt: Int64?
                    // The pending record of this pair, if it has one (a pair stored again replaces it).
                    var pendingSeq: Int64?
                    if seen.mayContain(pair) {
                        // The latest of: the pair in `dedupe`, pending (in the log only), or
                        // stored earlier in this batch.
                        var times = try findDedupe.query(.text(request.sender), .text(request.feedID)) { $0.int64(0) }.map { [$0] } ?? []
                        for seq in pending.seqs(hash: pair) {
                            let at = try findPending.query(.integer(seq)) { row -> Int64? in
                                row.bytes(0).elementsEqual(request.sender.utf8) && row.bytes(1).elementsEqual(request.feedID.utf8) ? row.int64(2) : nil
                            }
                            if let at = at ?? nil {
                                times.append(at)
                                pendingSeq = seq
                            }
                        }
                        if let earlier = stored.last(where: { $0.sender == request.sender && $0.feedID == request.feedID }) {
                            times.append(earlier.receivedAt.millis)
                        }
                        seenAt = times.max()
                    }
                    let currentKey = request.currentKey
                    let verdict = try IngestAdmission.verdict(request, registry: working, now: now, seenAt: seenAt) {
                        guard let version = versions.version(of: currentKey) else { return nil }
                        return IngestAdmission.Current(asOf: version.asOf) {
                            if version.seq >= first { return stored[Int(version.seq - first)].body }
                            return try findBody.query(.integer(version.seq)) { $0.bytes(0) } ?? []
                        }
                    }
                    if case .answer(let outcome) = verdict {
                        outcomes.append(outcome)
                        continue
                    }
                    let seq = first + Int64(stored.count)
                    versions.set(currentKey, CurrentVersions.Version(asOf: request.asOfMillis, seq: seq))
                    // Told before the commit: a pair the filter holds in vain costs one lookup.
                    seen.insert(pair, at: request.receivedAt.millis)
                    // Only registry records change it (and the feed is not copied out for others).
                    if request.feed.type.isRegistry { working.apply(request.feed) }
                    stored.append(request)
                    added.append((pair, seq, pendingSeq))
                    outcomes.append(.accepted(seq: seq))
                    highest = seq
                }
                try Self.insert(stored, numberedFrom: first, into: db)
                copiedThrough = pending.copyThrough(adding: stored.count, light: batch.count < Self.lightBatch)
                if let copiedThrough { try Self.copyPairs(through: copiedThrough, in: db) }
            } }
            for pair in added { pending.append(hash: pair.hash, seq: pair.seq, replacing: pair.replacing) }
            if let copiedThrough { pending.copied(through: copiedThrough) }
            versions.markDurable(through: highest)
            registry = working
            return outcomes
        } catch {
            registry = before
            throw error
        }
    }

    /// Records per INSERT statement.
    static let rowsPerStatement = 32
    /// A batch of fewer feeds is light: the writer is not pressed (the size half of its busy rule;
    /// the store does not see the queue).
    static let lightBatch = GroupCommitter.busyBatch

    /// Copies the pending pairs of the records up to `through` into `dedupe` (a pair stored again
    /// after its window replaces the old one: the records are read in order) and moves the mark.
    private static func copyPairs(through: Int64, in db: Database) throws {
        try SQLiteHotStatement(
            db,
            """
            INSERT OR REPLACE INTO dedupe (sender, feed_id, received_at)
            SELECT sender, feed_id, received_at FROM log WHERE seq > (SELECT through FROM dedupe_mark) AND seq <= ? ORDER BY seq
            """
        ).execute(.integer(through))
        try SQLiteHotStatement(db, "UPDATE dedupe_mark SET through = MAX(through, ?)").execute(.integer(through))
    }

    /// Copies every pair pending now into `dedupe`, a ``PendingPairs/Limits/chunk`` per transaction
    /// (compaction: the log records before the mark may go, and the pairs are purged from there).
    func copyPendingPairs() throws {
        let pending = self.pending
        var left = pending.count
        while left > 0 {
            guard let through = try pool.write({ db -> Int64? in
                guard let through = pending.oldest(pending.limits.chunk) else { return nil }
                try Self.copyPairs(through: through, in: db)
                return through
            }) else { return }
            pending.copied(through: through)
            left -= pending.limits.chunk
        }
    }

    /// The INSERT statements by number of rows (1 to ``rowsPerStatement``), written once.
    private static let insertLog = statements("INSERT INTO log (seq, sender, feed_id, type, key, as_of, received_at, body)", columns: 8)

    private static func statements(_ head: String, columns: Int) -> [String] {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return (0...rowsPerStatement).map { rows in head + " VALUES " + Array(repeating: row, count: rows).joined(separator: ", ") }
    }

    /// Writes `records` to the log, numbered from `first`.
    private static func insert(_ records: [CommitRequest], numberedFrom first: Int64, into db: Database) throws {
        var values: [SQLiteHotStatement.Value] = []
        values.reserveCapacity(rowsPerStatement * 8)
        var start = 0
        while start < records.count {
            let rows = records[start..<min(records.count, start + rowsPerStatement)]
            values.removeAll(keepingCapacity: true)
            for (offset, request) in zip(rows.indices, rows) {
                // One append each: an array literal per row would be an allocation per row.
                values.append(.integer(first + Int64(offset)))
                values.append(.text(request.sender))
                values.append(.text(request.feedID))
                // The type and key as the request keeps them (no copy of the feed, no key built again).
                values.append(.text(request.currentKey.type))
                values.append(.text(request.currentKey.key))
                values.append(.integer(request.asOfMillis))
                values.append(.integer(request.receivedAt.millis))
                values.append(.bytes(request.body))
            }
            try SQLiteHotStatement(db, insertLog[rows.count]).execute(values: values)
            start += rows.count
        }
    }

    func readLog(after: Int64, limit: Int) throws -> [LogEntry] {
        try pool.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT seq, sender, feed_id, type, key, as_of, received_at, body FROM log WHERE seq > ? ORDER BY seq LIMIT ?")
            let cursor = try Row.fetchCursor(statement, arguments: [after, limit])
            var entries: [LogEntry] = []
            while let row = try cursor.next() {
                entries.append(
                    LogEntry(
                        seq: row[0], sender: row[1], feedID: row[2], type: row[3], key: row[4], asOf: row[5], receivedAt: row[6],
                        body: row[7]))
            }
            return entries
        }
    }

    func head() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM log") ?? 0 }
    }

    func setConsumerPosition(name: String, position: Int64, now: Timestamp) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO consumers (name, position, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET position = MAX(position, excluded.position), updated_at = excluded.updated_at
                    """,
                arguments: [name, position, now.millis])
        }
    }

    func divergence(name: String) throws -> Int64? {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT log_head FROM diverged WHERE name = ?", arguments: [name]) }
    }

    func setDivergence(name: String, logHead: Int64, position: Int64, now: Timestamp) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO diverged (name, log_head, position, at) VALUES (?, ?, ?, ?)",
                arguments: [name, logHead, position, now.millis])
        }
    }

    func clearDivergence(name: String) throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM diverged WHERE name = ?", arguments: [name]) }
    }

    func consumerPositions() throws -> [String: Int64] {
        try pool.read { db in
            var positions: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, position FROM consumers") {
                positions[row[0]] = row[1]
            }
            return positions
        }
    }

    func compact(policy: RetentionPolicy, now: Timestamp) throws -> CompactionReport {
        let positions = try consumerPositions()
        // Records whose pairs are pending may not go: their pairs are in the log only.
        try copyPendingPairs()
        // Everything at or below `safe` has been processed by every configured consumer.
        let safe = min(policy.safePosition(positions), pending.through)
        var report = CompactionReport()
        let chunk = 20_000
        // Superseded versions: rows that are no longer their key's current version (never the
        // newest row: it is always current, being the last write of its key). Read a range of
        // sequence numbers at a time, so that no transaction holds the writer long.
        var from: Int64 = 0
        while from < safe {
            let through = min(safe, from + Int64(chunk))
            report.supersededRemoved += try pool.write { db -> Int in
                if !versions.isValid { try loadVersions(db) }
                let rows = try Row.fetchAll(db, sql: "SELECT seq, type, key FROM log WHERE seq > ? AND seq <= ?", arguments: [from, through])
                var removed = 0
                for row in rows where versions.isSuperseded(CurrentVersions.Key(type: row[1], key: row[2]), seq: row[0]) {
                    try db.execute(sql: "DELETE FROM log WHERE seq = ?", arguments: [row[0] as Int64])
                    removed += 1
                }
                return removed
            }
            // Past the head there is nothing to read.
            guard let next = try pool.read({ db in try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM log WHERE seq > ?", arguments: [through]) })
            else { break }
            from = next - 1
        }
        // Events past their retention.
        let eventCutoff = now.millis - policy.eventRetentionMillis
        for type in RetentionPolicy.eventTypes {
            while true {
                // Keys whose current record went; forgotten once the deletion is durable.
                var gone: [(CurrentVersions.Key, Int64)] = []
                let removed = try pool.write { db -> Int in
                    // Never the newest row: SQLite gives the next row MAX(seq) + 1, so deleting
                    // it would hand its number to another record, which a consumer that already
                    // committed that position would never receive.
                    let rows = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT seq, key FROM log WHERE type = ? AND seq <= ? AND received_at < ?
                            AND seq < (SELECT MAX(seq) FROM log) LIMIT ?
                            """,
                        arguments: [type, safe, eventCutoff, chunk])
                    gone = []
                    for row in rows {
                        let seq: Int64 = row[0]
                        gone.append((CurrentVersions.Key(type: type, key: row[1]), seq))
                        try db.execute(sql: "DELETE FROM log WHERE seq = ?", arguments: [seq])
                    }
                    return rows.count
                }
                for (key, seq) in gone { versions.remove(key, ifSeq: seq) }
                report.eventsRemoved += removed
                if removed < chunk { break }
            }
        }
        report.dedupeRemoved = try purgeDedupe(before: now.millis - policy.dedupeWindowMillis, chunk: chunk)
        return report
    }

    /// Deletes the (sender, id) pairs received before `cutoff`, walking the table in key order a
    /// chunk per transaction, so that no transaction holds the writer long.
    func purgeDedupe(before cutoff: Int64, chunk: Int) throws -> Int {
        try copyPendingPairs()
        var removed = 0
        var after = ("", "")
        while true {
            let (read, deleted, last) = try pool.write { db -> (Int, Int, (String, String)?) in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT sender, feed_id, received_at FROM dedupe WHERE (sender, feed_id) > (?, ?) ORDER BY sender, feed_id LIMIT ?",
                    arguments: [after.0, after.1, chunk])
                var deleted = 0
                for row in rows where (row[2] as Int64) < cutoff {
                    try db.execute(sql: "DELETE FROM dedupe WHERE sender = ? AND feed_id = ?", arguments: [row[0] as String, row[1] as String])
                    deleted += 1
                }
                return (rows.count, deleted, rows.last.map { ($0[0], $0[1]) })
            }
            removed += deleted
            guard read == chunk, let last else { return removed }
            after = last
        }
    }

    /// Runs `write`; if it fails (rolled back: the log is as before, which the versions it set
    /// are not), the versions are loaded from the log again before the next write.
    private func forgettingVersionsOnFailure<T>(_ write: () throws -> T) throws -> T {
        do {
            return try write()
        } catch {
            versions.invalidate()
            throw error
        }
    }

    func counts() throws -> (log: Int, keys: Int, dedupe: Int) {
        try pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log") ?? 0,
                versions.count,
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dedupe") ?? 0) + pending.count
            )
        }
    }
}
