import Foundation
import GRDB

/// ``SQLDatabase`` on a SQLite file through GRDB: a `DatabasePool` opened by ``DurableDatabase``
/// (WAL, `synchronous = FULL`); statements are compiled once and cached per connection.
public final class SQLiteDatabase: SQLDatabase {
    public let pool: DatabasePool
    public var dialect: SQLDialect { .sqlite }

    /// Opens (creating if needed) the file at `path` and applies `migrations` not yet applied.
    public init(path: String, migrations: [SQLMigration]) throws {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            let sql = migration.sqlite
            migrator.registerMigration(migration.name) { db in try db.execute(sql: sql) }
        }
        pool = try DurableDatabase.open(path: path, migrator: migrator)
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteConnection(db: db)) }
    }

    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.write { db in try body(SQLiteConnection(db: db)) }
    }

    public func writeWithoutTransaction<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in try body(SQLiteConnection(db: db)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.read { db in try body(SQLiteConnection(db: db)) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.write { db in try body(SQLiteConnection(db: db)) }
    }

    public func writeWithoutTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in try body(SQLiteConnection(db: db)) }
    }

    /// GRDB tells the observer about every insert into `outbox` and every commit.
    public func ringAfterOutboxCommits(_ doorbell: Doorbell) {
        pool.add(transactionObserver: OutboxObserver(doorbell: doorbell), extent: .databaseLifetime)
    }
}

/// A GRDB connection seen through ``SQLConnection``.
struct SQLiteConnection: SQLConnection {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    func execute(sql: String, arguments: SQLArguments) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func forEachRow(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
        let statement = try db.cachedStatement(sql: sql)
        let columns = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        while let row = try cursor.next() {
            try body(SQLRow(row.databaseValues.map(Self.value), columns: columns))
        }
    }

    func inTransaction<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try db.inTransaction {
            result = try body()
            return .commit
        }
        return result!
    }

    /// ``OutboxObserver`` sees the insert itself.
    func queuedOutboxFrame() {}

    private static func arguments(_ arguments: SQLArguments) -> StatementArguments {
        StatementArguments(arguments.values.map { value -> DatabaseValue in
            switch value {
            case .null: .null
            case .integer(let integer): integer.databaseValue
            case .real(let real): real.databaseValue
            case .text(let text): text.databaseValue
            case .blob(let bytes): Data(bytes).databaseValue
            }
        })
    }

    private static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let integer): .integer(integer)
        case .double(let real): .real(real)
        case .string(let text): .text(text)
        case .blob(let data): .blob([UInt8](data))
        }
    }
}
