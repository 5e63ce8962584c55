import Foundation

/// Which engine runs the SQL: the few statements that differ between SQLite and PostgreSQL
/// (migrations, mostly) pick their text by it.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// A service's database, on SQLite (``SQLiteDatabase``, the embedded default) or PostgreSQL
/// (``PostgresDatabase``): the small interface the indicators', safety's and notify's state sit
/// behind. Statements use `?` placeholders and the SQL both engines share (`ON CONFLICT … DO`,
/// `COALESCE`, `RETURNING`); a write is one transaction, durable when it returns.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` on a consistent snapshot.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs `body` in one transaction: committed (and durable) when it returns, rolled back when it throws.
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs `body` with the writer held but no transaction open: `body` opens its own
    /// (``SQLConnection/inTransaction(_:)``) and may go on after a rollback.
    func writeWithoutTransaction<T>(_ body: (any SQLConnection) throws -> T) throws -> T

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    func writeWithoutTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T

    /// Rings `doorbell` after every commit that queued a frame in the outbox (``Outbox``).
    func ringAfterOutboxCommits(_ doorbell: Doorbell)
}

/// The database inside a read or a write: statements run at once, on one connection.
public protocol SQLConnection {
    var dialect: SQLDialect { get }
    /// Runs one statement; returns how many rows it inserted, changed or deleted.
    @discardableResult
    func execute(sql: String, arguments: SQLArguments) throws -> Int
    /// Runs one query and hands each row to `body`, in order (on SQLite without holding them all).
    func forEachRow(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws
    /// Runs `body` in a transaction (inside ``SQLDatabase/writeWithoutTransaction(_:)``).
    func inTransaction<T>(_ body: () throws -> T) throws -> T
    /// Tells the database that this transaction queued an outbox frame (``Outbox/enqueue``).
    func queuedOutboxFrame()
}

extension SQLConnection {
    /// Runs one query; returns every row.
    public func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try forEachRow(sql: sql, arguments: arguments) { rows.append($0) }
        return rows
    }

    @discardableResult
    public func execute(sql: String) throws -> Int { try execute(sql: sql, arguments: []) }

    /// Runs a statement (the short form the services' hot paths use).
    public func run(_ sql: String, _ arguments: SQLArguments = []) throws { try execute(sql: sql, arguments: arguments) }

    public func rows(_ sql: String, _ arguments: SQLArguments = []) throws -> [SQLRow] {
        try fetchAll(sql: sql, arguments: arguments)
    }

    public func row(_ sql: String, _ arguments: SQLArguments = []) throws -> SQLRow? {
        try fetchAll(sql: sql, arguments: arguments).first
    }

    public func exists(_ sql: String, _ arguments: SQLArguments = []) throws -> Bool {
        try !fetchAll(sql: sql, arguments: arguments).isEmpty
    }

    /// The first column of the first row as `Value`; nil when there is no row or it is NULL.
    public func value<Value: SQLValueConvertible>(_ type: Value.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> Value? {
        guard let first = try fetchAll(sql: sql, arguments: arguments).first?.values.first else { return nil }
        return Value(sqlValue: first)
    }

    /// The first column of the first row as an integer (0 when there is none: `COUNT`, `MAX`).
    public func int(_ sql: String, _ arguments: SQLArguments = []) throws -> Int {
        try value(Int.self, sql, arguments) ?? 0
    }

    /// The first column of every row, as strings.
    public func strings(_ sql: String, _ arguments: SQLArguments = []) throws -> [String] {
        try fetchAll(sql: sql, arguments: arguments).compactMap { $0.values.first.flatMap(String.init(sqlValue:)) }
    }
}

/// A named, forward-only schema change, in each engine's DDL. Names are the ones the SQLite
/// files already record (GRDB's `grdb_migrations`), so existing files migrate on as before.
public struct SQLMigration: Sendable {
    public var name: String
    /// One or more statements, run by SQLite as one script.
    public var sqlite: String
    /// The statements, run in order in one transaction with the schema first on the search path.
    public var postgres: [String]

    public init(_ name: String, sqlite: String, postgres: [String]) {
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
    }
}

extension SQLMigration {
    /// A migration written once in SQLite's DDL, PostgreSQL's derived from it: `INTEGER` →
    /// `BIGINT`, `REAL` → `DOUBLE PRECISION`, `INTEGER PRIMARY KEY AUTOINCREMENT` → `BIGSERIAL
    /// PRIMARY KEY`, no `WITHOUT ROWID`; statements split at `;` (none may hold one in a literal).
    public init(_ name: String, portable sql: String) {
        var postgres = sql.replacingOccurrences(of: "INTEGER PRIMARY KEY AUTOINCREMENT", with: "BIGSERIAL PRIMARY KEY")
        postgres = postgres.replacingOccurrences(of: " WITHOUT ROWID", with: "")
        postgres = postgres.replacingOccurrences(of: #"\bINTEGER\b"#, with: "BIGINT", options: .regularExpression)
        postgres = postgres.replacingOccurrences(of: #"\bREAL\b"#, with: "DOUBLE PRECISION", options: .regularExpression)
        let statements = postgres.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        self.init(name, sqlite: sql, postgres: statements)
    }
}
