import DudaoCore

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

    public static let migration = SQLMigration(
        "outbox",
        sqlite: """
            CREATE TABLE outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                frame_id TEXT NOT NULL UNIQUE,
                frame TEXT NOT NULL,
                created_at INTEGER NOT NULL)
            """,
        postgres: [
            """
            CREATE TABLE outbox (
                seq BIGSERIAL PRIMARY KEY,
                frame_id TEXT NOT NULL UNIQUE,
                frame TEXT NOT NULL,
                created_at BIGINT NOT NULL)
            """
        ])

    /// Queues `frame` (which carries `id`); a frame with an id already queued is ignored.
    public static func enqueue(_ db: any SQLConnection, id: String, frame: JSONValue, now: Timestamp) throws {
        try db.run(
            "INSERT INTO outbox (frame_id, frame, created_at) VALUES (?, ?, ?) ON CONFLICT (frame_id) DO NOTHING",
            [id, JSONWriter.string(frame), now.millis])
        db.queuedOutboxFrame()
    }

    /// The oldest queued frames.
    public static func pending(_ db: any SQLConnection, limit: Int) throws -> [Entry] {
        try db.rows("SELECT seq, frame_id, frame FROM outbox ORDER BY seq LIMIT ?", [limit]).map {
            Entry(seq: $0[0], id: $0[1], frame: $0[2])
        }
    }

    /// Removes delivered frames.
    public static func remove(_ db: any SQLConnection, seqs: [Int64]) throws {
        for seq in seqs { try db.run("DELETE FROM outbox WHERE seq = ?", [seq]) }
    }

    public static func count(_ db: any SQLConnection) throws -> Int {
        try db.int("SELECT COUNT(*) FROM outbox")
    }
}
