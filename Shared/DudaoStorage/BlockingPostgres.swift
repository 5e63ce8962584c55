import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// One PostgreSQL connection used the way the stores use SQLite: synchronously, from a writer
/// thread or a thread-pool thread (never an event loop, whose thread the wait would block).
/// A call made while the connection is down connects again first; a call that fails on a
/// closed connection drops it, so the next call reconnects (a restarted or failed-over server).
public final class BlockingPostgres: Sendable {
    private let location: PostgresLocation
    private let schema: String
    private let applicationName: String
    private let logger: Logger
    /// The connection, and the lock that keeps one query or transaction on it at a time.
    private let connection = NIOLockedValueBox<PostgresConnection?>(nil)
    private static let ids = NIOLockedValueBox(0)

    public init(location: PostgresLocation, schema: String, applicationName: String, logger: Logger) {
        self.location = location
        self.schema = schema
        self.applicationName = applicationName
        self.logger = logger
    }

    /// Runs `body` with the connection held: no other call uses it meanwhile.
    @discardableResult
    public func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try connection.withLockedValue { held in
            let live: PostgresConnection
            if let held, !held.isClosed {
                live = held
            } else {
                do {
                    live = try connect()
                } catch {
                    throw PostgresFailure(error)
                }
                held = live
            }
            do {
                return try body(PostgresSession(connection: live, logger: logger))
            } catch {
                if live.isClosed || error is PostgresSessionError { held = nil }
                throw PostgresFailure(error)
            }
        }
    }

    /// Runs `body` in a transaction: COMMIT when it returns (durable when COMMIT returns:
    /// `synchronous_commit = on`), ROLLBACK when it throws.
    /// `begin` opens it (`BEGIN ISOLATION LEVEL …` for another isolation).
    @discardableResult
    public func transaction<T>(begin: String = "BEGIN", _ body: (PostgresSession) throws -> T) throws -> T {
        try withSession { session in
            try session.execute(PostgresQuery(unsafeSQL: begin))
            do {
                let result = try body(session)
                try session.execute("COMMIT")
                return result
            } catch {
                _ = try? session.execute("ROLLBACK")
                throw error
            }
        }
    }

    deinit {
        // Without waiting: the last reference may go on any thread, an event loop's included.
        // The closure keeps the connection until it is closed (PostgresNIO requires that).
        connection.withLockedValue { held in
            guard let held, !held.isClosed else { return }
            let closing: EventLoopFuture<Void> = held.close()
            closing.whenComplete { _ in _ = held }
        }
    }

    /// Closes the connection (the next call would open it again).
    public func close() {
        connection.withLockedValue { held in
            if let held { try? held.close().wait() }
            held = nil
        }
    }

    private func connect() throws -> PostgresConnection {
        let id = Self.ids.withLockedValue { id in
            id += 1
            return id
        }
        let configuration = try location.configuration(schema: schema, applicationName: applicationName)
        return try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id, logger: logger
        ).wait()
    }
}

/// The connection inside ``BlockingPostgres/withSession(_:)``: queries wait for their result.
public struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// How long a statement may take before the connection is taken as dead and closed (a
    /// server gone without a reset, a partition): the call then fails instead of waiting forever.
    static let timeout = TimeAmount.seconds(30)

    /// Runs `query` and returns every row.
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try waitOrClose(connection.query(query, logger: logger))
    }

    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try waitOrClose(connection.query(query, logger: logger)).metadata.rows ?? 0
    }

    /// Waits for `future`, the answer to a query just written to the connection, but not forever:
    ///
    /// - A query written to a connection already closed (the server gone between two statements
    ///   of a transaction) is dropped by PostgresNIO without failing its future. A check queued on
    ///   the event loop after the write finds the connection closed and fails the wait instead.
    /// - A statement still unanswered after ``timeout`` (a server gone without a reset, a
    ///   partition) fails the wait and closes the connection, so the next call reconnects.
    private func waitOrClose<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        let connection = self.connection
        let loop = future.eventLoop
        let answer = loop.makePromise(of: T.self)
        future.cascade(to: answer)
        loop.execute {
            if connection.isClosed { answer.fail(PostgresSessionError.connectionClosed) }
        }
        let guardTask = loop.scheduleTask(in: Self.timeout) {
            answer.fail(PostgresSessionError.timedOut)
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in _ = connection }
        }
        defer { guardTask.cancel() }
        return try answer.futureResult.wait()
    }
}

/// Why a statement's wait ended without the server's answer.
enum PostgresSessionError: Error, CustomStringConvertible {
    case connectionClosed
    case timedOut

    var description: String {
        switch self {
        case .connectionClosed: "the connection to PostgreSQL closed before the statement was sent"
        case .timedOut: "PostgreSQL did not answer within \(PostgresSession.timeout.nanoseconds / 1_000_000_000) s; the connection was closed"
        }
    }
}

/// A PostgreSQL error with the server's own message (PostgresNIO's description hides it).
public struct PostgresFailure: Error, CustomStringConvertible {
    public var description: String
    /// The SQLSTATE, when the server sent one (`40001`, `23505`, …).
    public var sqlState: String?

    public init(_ error: any Error) {
        if let failure = error as? PostgresFailure {
            description = failure.description
            sqlState = failure.sqlState
        } else if let error = error as? PSQLError {
            let message = error.serverInfo?[.message]
            let state = error.serverInfo?[.sqlState]
            sqlState = state
            if let message {
                description = "PostgreSQL: \(message)" + (state.map { " (\($0))" } ?? "")
            } else {
                description = "PostgreSQL: \(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
            }
        } else {
            description = "\(error)"
            sqlState = nil
        }
    }
}

extension PostgresQueryResult {
    /// The first column of the first row, if there is a row.
    public func single<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value? {
        try first?.decode(Value.self)
    }
}
