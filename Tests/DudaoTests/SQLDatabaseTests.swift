import DudaoStorage
import DudaoTesting
import Foundation
import Logging
import Testing

/// The services' storage interface on both engines: the same statements give the same values,
/// and on PostgreSQL one instance per schema.
@Suite struct SQLDatabaseTests {
    static let migrations = [
        SQLMigration("t1", portable: "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, x REAL, flag INTEGER NOT NULL DEFAULT 0)"),
        SQLMigration("t2", portable: "CREATE TABLE q (seq INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL)"),
    ]

    static func open(_ backend: StoreBackend, _ directory: TestDirectory, exclusive: Bool = false) throws -> any SQLDatabase {
        try backend.location("sql", in: directory).open(
            schema: "dudao_sqltest", applicationName: "dudao-sqltest", migrations: migrations, logger: Logger(label: "test"),
            exclusive: exclusive)
    }

    /// The PostgreSQL database `open` made in `directory`, as a serve command opens it, waiting
    /// `lockWait` for the instance lock.
    static func openExclusive(_ directory: TestDirectory, lockWait: Duration) throws -> PostgresDatabase {
        try PostgresDatabase(
            location: try PostgresLocation(url: try String(contentsOfFile: directory.file("sql.postgres-url"), encoding: .utf8)),
            schema: "dudao_sqltest", applicationName: "dudao-sqltest", migrations: migrations, logger: Logger(label: "test"),
            exclusive: true, lockWait: lockWait)
    }

    @Test(arguments: StoreBackend.allCases) func theSameStatementsGiveTheSameValues(backend: StoreBackend) throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let database = try Self.open(backend, directory)
        try database.write { db in
            try db.run("INSERT INTO t (id, n, x, flag) VALUES (?, ?, ?, ?)", ["a?", 2, 1.5, true])
            try db.run("INSERT INTO t (id, n, x) VALUES (?, ?, ?)", ["b", 40, nil])
            // An upsert, and a '?' inside a literal is not a placeholder.
            try db.run("INSERT INTO t (id, n) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET n = t.n + excluded.n", ["b", 1])
            try db.run("UPDATE t SET x = ? WHERE id = 'a?'", [2.5])
        }
        let seq = try database.write { db in try db.value(Int64.self, "INSERT INTO q (note) VALUES (?) RETURNING seq", ["n"]) }
        #expect(seq == 1)
        try database.read { db in
            #expect(try db.int("SELECT SUM(n) FROM t") == 43, "SUM over integers is an integer on both (NUMERIC on PostgreSQL)")
            #expect(try db.value(Double.self, "SELECT x FROM t WHERE id = ?", ["a?"]) == 2.5)
            #expect(try db.value(Double.self, "SELECT x FROM t WHERE id = ?", ["b"]) == nil)
            let flag = try #require(try db.row("SELECT flag, n > 10 FROM t WHERE id = ?", ["b"]))
            let stored: Bool = flag[0]
            let compared: Bool = flag[1]
            #expect(!stored && compared, "booleans read from integers and from comparisons alike")
            #expect(try db.strings("SELECT id FROM t ORDER BY id") == ["a?", "b"])
            let named = try #require(try db.row("SELECT id, n FROM t WHERE id = 'b'"))
            #expect(named["n"] as Int == 41)
        }
        #expect(throws: (any Error).self) { try database.write { db in try db.run("INSERT INTO t (id) VALUES (?)", ["a?"]) } }
        #expect(try database.read { db in try db.int("SELECT COUNT(*) FROM t") } == 2, "a failed write changes nothing")
    }

    /// Rows many to a statement: full chunks and the rest, every row stored once, in order.
    @Test(arguments: StoreBackend.allCases) func manyRowsToAStatement(backend: StoreBackend) throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let database = try Self.open(backend, directory)
        let statement = MultiRowStatement(
            prefix: "INSERT INTO t (id, n) VALUES", row: "(?, ?)", suffix: "ON CONFLICT (id) DO UPDATE SET n = excluded.n", rowsPerStatement: 4)
        #expect(statement.sql(rows: 2) == "INSERT INTO t (id, n) VALUES (?, ?), (?, ?) ON CONFLICT (id) DO UPDATE SET n = excluded.n")
        try database.write { db in
            try statement.run(1...10, on: db) { n, arguments in
                arguments.append(String(format: "r%02d", n))
                arguments.append(n)
            }
            try statement.run([Int](), on: db) { _, _ in Issue.record("no rows, no statement") }
            try statement.run([3], on: db) { n, arguments in arguments += [String(format: "r%02d", n), 30] }
        }
        let ids = (1...10).map { String(format: "r%02d", $0) }
        try database.read { db throws in
            #expect(try db.strings("SELECT id FROM t ORDER BY id") == ids)
            #expect(try db.int("SELECT SUM(n) FROM t") == 55 - 3 + 30)
        }
    }

    /// A second instance of a service on the same schema is refused, naming why; once the first
    /// has gone, it starts.
    /// Arguments are bound through SQLite's C API on a cached statement: a statement that failed
    /// (a duplicate key) runs again, an empty string stays an empty string (not NULL), and a
    /// wrong number of arguments is an error, not a crash.
    @Test(arguments: StoreBackend.allCases) func aStatementThatFailedRunsAgain(backend: StoreBackend) throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let database = try Self.open(backend, directory)
        let insert = "INSERT INTO q (note) VALUES (?)"
        try database.write { db in try db.run("INSERT INTO t (id, n) VALUES (?, ?)", ["a", 1]) }
        #expect(throws: (any Error).self) { try database.write { db in try db.run("INSERT INTO t (id, n) VALUES (?, ?)", ["a", 2]) } }
        try database.write { db in
            try db.run("INSERT INTO t (id, n) VALUES (?, ?)", ["b", 2])
            try db.run(insert, [""])
        }
        #expect(throws: (any Error).self) { try database.write { db in try db.run(insert, ["x", "y"]) } }
        let (count, n, notes) = try database.read { db in
            (try db.int("SELECT count(*) FROM t"), try db.value(Int.self, "SELECT n FROM t WHERE id = ?", ["a"]),
             try db.strings("SELECT note FROM q WHERE note IS NOT NULL"))
        }
        #expect(count == 2 && n == 1)
        #expect(notes == [""])
    }

    @Test func oneInstanceOfAServicePerSchemaOnPostgres() throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let first = try #require(try Self.open(.postgres, directory, exclusive: true) as? PostgresDatabase)
        // Not exclusive (a tool reading it): let in.
        _ = try Self.open(.postgres, directory)
        do {
            _ = try Self.openExclusive(directory, lockWait: .milliseconds(500))
            Issue.record("a second instance was let in")
        } catch {
            #expect("\(error)".contains("another dudao-sqltest is already running"), "\(error)")
            #expect("\(error)".contains("held by dudao-sqltest instance from"), "names the holder: \(error)")
        }
        first.close()
        // Let in once the first has gone. It waits longer than a service would: once, under the
        // whole suite's load, a reopen found the lock still held after 10 s (cause not found;
        // the refusal now names the holder, should it happen again).
        let second = try Self.openExclusive(directory, lockWait: .seconds(60))
        #expect(try second.read { db in try db.int("SELECT COUNT(*) FROM t") } == 0)
    }
}
