import Foundation
import GRDB

/// Opens SQLite databases the way every Dudao service needs them: WAL, and `synchronous = FULL`
/// on the writer, so a committed transaction has been fsync'd before the commit returns.
public enum DurableDatabase {
    /// Opens (creating the folder if needed) a database pool at `path` and runs `migrator`.
    ///
    /// GRDB sets `synchronous = NORMAL` on the writer when it enables WAL (after
    /// `prepareDatabase` runs), and NORMAL does not fsync at commit: FULL is set again on the
    /// writer connection here and checked.
    public static func open(path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        let level = try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
        guard level == 2 else { throw DatabaseError(message: "could not set synchronous = FULL (got \(level))") }
        try migrator.migrate(pool)
        return pool
    }
}
