import GRDB

/// The ingest log position a downstream service has applied, stored in the service's own
/// database in the same transaction as the state it derived: so a record is applied exactly
/// once, however often it is redelivered.
public enum ConsumerPosition {
    /// Adds the `consumer_position` table.
    public static func registerMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("consumer-position") { db in
            try db.execute(sql: "CREATE TABLE consumer_position (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)")
            try db.execute(sql: "INSERT INTO consumer_position (id, seq) VALUES (1, 0)")
        }
    }

    /// The last applied sequence number (0: nothing yet).
    public static func load(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM consumer_position WHERE id = 1") ?? 0
    }

    /// Records `seq` as applied; call inside the transaction that applied it.
    public static func save(_ db: Database, _ seq: Int64) throws {
        try db.execute(sql: "UPDATE consumer_position SET seq = ? WHERE id = 1", arguments: [seq])
    }
}
