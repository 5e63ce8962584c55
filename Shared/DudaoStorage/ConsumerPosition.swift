/// The ingest log position a downstream service has applied, stored in the service's own
/// database in the same transaction as the state it derived: so a record is applied exactly
/// once, however often it is redelivered.
public enum ConsumerPosition {
    /// The `consumer_position` table.
    public static let migration = SQLMigration(
        "consumer-position",
        sqlite: """
            CREATE TABLE consumer_position (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
            INSERT INTO consumer_position (id, seq) VALUES (1, 0);
            """,
        postgres: [
            "CREATE TABLE consumer_position (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL)",
            "INSERT INTO consumer_position (id, seq) VALUES (1, 0)",
        ])

    /// The last applied sequence number (0: nothing yet).
    public static func load(_ db: any SQLConnection) throws -> Int64 {
        try db.value(Int64.self, "SELECT seq FROM consumer_position WHERE id = 1") ?? 0
    }

    /// Records `seq` as applied; call inside the transaction that applied it.
    public static func save(_ db: any SQLConnection, _ seq: Int64) throws {
        try db.run("UPDATE consumer_position SET seq = ? WHERE id = 1", [seq])
    }
}
