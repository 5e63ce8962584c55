import DudaoCore
import GRDB

/// Frames a service must deliver to another service (events to `dudao-notify`), written in the
/// same transaction as the state change that caused them and deleted once acknowledged.
///
/// Frame ids are deterministic (derived from what caused them), so a redelivery after a crash
/// is answered `duplicate` by the receiver and has no second effect.
public enum Outbox {
    public struct Entry: Sendable {
        public var seq: Int64
        public var id: String
        public var frame: String
    }

    public static func registerMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        frame_id TEXT NOT NULL UNIQUE,
                        frame TEXT NOT NULL,
                        created_at INTEGER NOT NULL)
                    """)
        }
    }

    /// Queues `frame` (which carries `id`); a frame with an id already queued is ignored.
    public static func enqueue(_ db: Database, id: String, frame: JSONValue, now: Timestamp) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO outbox (frame_id, frame, created_at) VALUES (?, ?, ?)",
            arguments: [id, JSONWriter.string(frame), now.millis])
    }

    /// The oldest queued frames.
    public static func pending(_ db: Database, limit: Int) throws -> [Entry] {
        try Row.fetchAll(db, sql: "SELECT seq, frame_id, frame FROM outbox ORDER BY seq LIMIT ?", arguments: [limit]).map {
            Entry(seq: $0[0], id: $0[1], frame: $0[2])
        }
    }

    /// Removes delivered frames.
    public static func remove(_ db: Database, seqs: [Int64]) throws {
        for seq in seqs { try db.execute(sql: "DELETE FROM outbox WHERE seq = ?", arguments: [seq]) }
    }

    public static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
    }
}
