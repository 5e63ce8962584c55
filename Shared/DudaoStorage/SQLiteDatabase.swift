import Foundation
import GRDB
import GRDBSQLite

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
        try bound(sql, arguments).execute()
        return db.changesCount
    }

    func forEachRow(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
        let statement = try bound(sql, arguments)
        let columns = statement.columnNames
        let handle = statement.sqliteStatement
        let count = Int32(columns.count)
        let cursor = try Row.fetchCursor(statement)
        while try cursor.next() != nil {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for column in 0..<count { values.append(Self.value(handle, column)) }
            try body(SQLRow(values, columns: columns))
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

    /// The cached statement for `sql` with `arguments` bound through SQLite's C API, for GRDB
    /// to run (its transaction observers still see every change).
    ///
    /// GRDB's `StatementArguments` would take each value through generic code that is not
    /// specialized for it (a type-metadata lookup and a key path per value): about 16 000
    /// instructions per statement, a fifth of dudao-indicators' CPU per applied record. GRDB is
    /// told the statement has its arguments (none of its own), then SQLite gets a copy of each.
    /// GRDB drops a statement that failed from its cache; the reset is checked here all the same,
    /// so that the one in `setUncheckedArguments` (which traps on an error) cannot fail.
    private func bound(_ sql: String, _ arguments: SQLArguments) throws -> Statement {
        let statement = try db.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        let reset = sqlite3_reset(handle)
        guard reset == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: reset), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
        }
        statement.setUncheckedArguments(StatementArguments())
        guard Int(sqlite3_bind_parameter_count(handle)) == arguments.values.count else {
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message: "wrong number of statement arguments: \(arguments.values.count) for \(sqlite3_bind_parameter_count(handle))", sql: sql)
        }
        for (index, value) in arguments.values.enumerated() {
            let position = Int32(index + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, position)
            case .integer(let integer): code = sqlite3_bind_int64(handle, position, integer)
            case .real(let real): code = sqlite3_bind_double(handle, position, real)
            // An empty value gets a pointer of its own: a null one would bind NULL.
            case .text(var text):
                code = text.withUTF8 { utf8 in
                    guard let start = utf8.baseAddress, !utf8.isEmpty else { return sqlite3_bind_text(handle, position, "", 0, nil) }
                    return sqlite3_bind_text(handle, position, start, Int32(utf8.count), Self.transient)
                }
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { raw in
                    guard let start = raw.baseAddress, !raw.isEmpty else { return sqlite3_bind_zeroblob(handle, position, 0) }
                    return sqlite3_bind_blob(handle, position, start, Int32(raw.count), Self.transient)
                }
            }
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
        }
        return statement
    }

    /// SQLite copies the value before the bind returns (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Column `column` of the statement's current row.
    private static func value(_ handle: OpaquePointer, _ column: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(handle, column) else { return .text("") }
            let count = Int(sqlite3_column_bytes(handle, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            guard let bytes = sqlite3_column_blob(handle, column) else { return .blob([]) }
            let count = Int(sqlite3_column_bytes(handle, column))
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}
