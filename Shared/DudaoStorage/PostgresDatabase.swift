import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// ``SQLDatabase`` on PostgreSQL for a service that runs as one instance (indicators, safety,
/// notify): its tables in a schema of its own, one connection for writes and one for reads,
/// each write one transaction acknowledged by COMMIT under `synchronous_commit = on`.
///
/// Statements are written with `?` placeholders, as on SQLite; they become `$1, $2, …` here.
public final class PostgresDatabase: SQLDatabase {
    private let writer: BlockingPostgres
    private let reader: BlockingPostgres
    private let doorbells = NIOLockedValueBox<[Doorbell]>([])
    public var dialect: SQLDialect { .postgres }

    /// Holds the instance lock (``init(location:schema:applicationName:migrations:logger:exclusive:)``).
    private let instance: BlockingPostgres?

    /// Connects to `location`, schema `schema`, and applies `migrations` not yet applied.
    ///
    /// - Parameter exclusive: one instance per schema (a service's serve command): a connection
    ///   of its own takes a session-level advisory lock and keeps it while the process lives (its
    ///   connection closes with it). A second instance started on the same schema waits up to
    ///   `lockWait` for it (a previous instance's connection still closing), then is refused.
    ///   The lock guards starts, not every write: a connection cut later drops it silently.
    public init(
        location: PostgresLocation, schema: String, applicationName: String, migrations: [SQLMigration], logger: Logger,
        exclusive: Bool = false, lockWait: Duration = .seconds(10)
    ) throws {
        if exclusive {
            let instance = BlockingPostgres(location: location, schema: schema, applicationName: "\(applicationName) instance", logger: logger)
            try Self.takeInstanceLock(instance, schema: schema, service: applicationName, wait: lockWait)
            self.instance = instance
        } else {
            instance = nil
        }
        writer = BlockingPostgres(location: location, schema: schema, applicationName: "\(applicationName) writer", logger: logger)
        reader = BlockingPostgres(location: location, schema: schema, applicationName: "\(applicationName) reader", logger: logger)
        var steps = PostgresMigrations(schema: schema)
        for migration in migrations { steps.register(migration.name, migration.postgres) }
        try steps.migrate(writer)
    }

    /// Closes the connections (releasing the instance lock); waits, so never on an event loop.
    public func close() {
        writer.close()
        reader.close()
        instance?.close()
    }

    private static func takeInstanceLock(_ connection: BlockingPostgres, schema: String, service: String, wait: Duration) throws {
        let key = "dudao-instance:\(schema)"
        let deadline = ContinuousClock.now + wait
        while true {
            var binds = PostgresBindings()
            binds.append(key)
            let held = try connection.withSession { session in
                try session.query(PostgresQuery(unsafeSQL: "SELECT pg_try_advisory_lock(hashtext($1))", binds: binds)).single(Bool.self)
            }
            if held == true { return }
            guard ContinuousClock.now < deadline else {
                let holder = (try? Self.lockHolder(connection, key: key)).map { " — held by \($0)" } ?? ""
                connection.close()
                throw StorageConfigError(
                    "another \(service) is already running on this database (it holds schema \(schema)\(holder)): run one instance of \(service) per deployment")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Who holds the advisory lock on `key`: the holder's application name, address and start
    /// (so that an operator refused at start can find the other instance).
    private static func lockHolder(_ connection: BlockingPostgres, key: String) throws -> String? {
        var binds = PostgresBindings()
        binds.append(key)
        // A one-bigint advisory lock shows its key's high and low 32 bits as classid and objid.
        let sql = """
            SELECT a.application_name || ' from ' || COALESCE(host(a.client_addr), 'a local socket')
                || ', connected ' || to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') || ', process ' || a.pid
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.objid::bigint = (hashtext($1)::bigint & 4294967295) AND l.classid::bigint = ((hashtext($1)::bigint >> 32) & 4294967295)
            LIMIT 1
            """
        return try connection.withSession { session in
            try session.query(PostgresQuery(unsafeSQL: sql, binds: binds)).single(String.self)
        }
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try reader.transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { session in
            try body(PostgresConnectionAccess(session: session))
        }
    }

    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try writeWithoutTransaction { connection in try connection.inTransaction { try body(connection) } }
    }

    public func writeWithoutTransaction<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        let ring = NIOLockedValueBox(false)
        let result = try writer.withSession { session in
            try body(PostgresConnectionAccess(session: session, committedOutbox: ring))
        }
        if ring.withLockedValue({ $0 }) {
            for doorbell in doorbells.withLockedValue({ $0 }) { doorbell.ring() }
        }
        return result
    }

    // The blocking calls run on NIO's thread pool: never on the cooperative pool (two threads
    // on this machine), which a wait on the network would stall.

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try self.read(body) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try self.write(body) }
    }

    public func writeWithoutTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try self.writeWithoutTransaction(body) }
    }

    public func ringAfterOutboxCommits(_ doorbell: Doorbell) {
        doorbells.withLockedValue { $0.append(doorbell) }
    }
}

/// A PostgreSQL session seen through ``SQLConnection``.
final class PostgresConnectionAccess: SQLConnection {
    let session: PostgresSession
    /// Set when a transaction that queued an outbox frame commits (nil on the reader).
    private let committedOutbox: NIOLockedValueBox<Bool>?
    private var queued = false
    private var depth = 0
    var dialect: SQLDialect { .postgres }

    init(session: PostgresSession, committedOutbox: NIOLockedValueBox<Bool>? = nil) {
        self.session = session
        self.committedOutbox = committedOutbox
    }

    func execute(sql: String, arguments: SQLArguments) throws -> Int {
        try session.execute(try Self.query(sql, arguments))
    }

    func forEachRow(sql: String, arguments: SQLArguments, _ body: (SQLRow) throws -> Void) throws {
        var columns: [String]?
        for row in try session.query(try Self.query(sql, arguments)) {
            var values: [SQLValue] = []
            values.reserveCapacity(row.count)
            for cell in row { values.append(try Self.value(cell)) }
            if columns == nil { columns = row.map(\.columnName) }
            try body(SQLRow(values, columns: columns ?? []))
        }
    }

    func inTransaction<T>(_ body: () throws -> T) throws -> T {
        // A transaction inside a transaction is part of it (as GRDB's savepoint-less nesting is
        // not needed here: no caller nests).
        if depth > 0 { return try body() }
        try session.execute("BEGIN")
        depth += 1
        defer { depth -= 1 }
        do {
            let result = try body()
            try session.execute("COMMIT")
            if queued { committedOutbox?.withLockedValue { $0 = true } }
            queued = false
            return result
        } catch {
            queued = false
            _ = try? session.execute("ROLLBACK")
            throw error
        }
    }

    func queuedOutboxFrame() { queued = true }

    /// `sql` with its `?` placeholders (outside quotes) numbered, and `arguments` bound: as many
    /// as there are placeholders (PostgreSQL would ignore the extra ones), as on SQLite.
    static func query(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQuery {
        var text = ""
        text.reserveCapacity(sql.utf8.count + 8)
        var number = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?" && !quoted {
                number += 1
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        guard number == arguments.values.count else {
            throw SQLArgumentCountError(sql: sql, placeholders: number, arguments: arguments.values.count)
        }
        var bindings = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let integer): bindings.append(integer)
            case .real(let real): bindings.append(real)
            case .text(let string): bindings.append(string)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    /// A cell as the value SQLite would have returned for the same column.
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .numeric:
            // SUM over BIGINT gives NUMERIC: an integer when it is one, as on SQLite.
            let decimal = try cell.decode(Decimal.self)
            var rounded = Decimal()
            var copy = decimal
            NSDecimalRound(&rounded, &copy, 0, .plain)
            if rounded == decimal, let integer = Int64(exactly: NSDecimalNumber(decimal: decimal).doubleValue) {
                return .integer(integer)
            }
            return .real(NSDecimalNumber(decimal: decimal).doubleValue)
        case .bytea: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        default: return .text(try cell.decode(String.self))
        }
    }
}

/// A statement given more or fewer arguments than it has `?` placeholders.
public struct SQLArgumentCountError: Error, CustomStringConvertible {
    public var sql: String
    public var placeholders: Int
    public var arguments: Int
    public var description: String { "wrong number of statement arguments: \(arguments) for \(placeholders) in \(sql)" }
}
