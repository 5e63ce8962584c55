import ArgumentParser
import Foundation
import GRDB

/// `dudao backup --database SRC --to DEST`: a consistent copy of a running service's SQLite
/// database (SQLite's online backup API through GRDB), taken while the service keeps writing.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a service's SQLite database consistently while it runs (restore: stop the service, put the copy in place).")

    @Option(help: "The service's database, e.g. /var/lib/dudao/ingest.sqlite.")
    var database: String

    @Option(help: "Where to write the copy (must not exist yet).")
    var to: String

    func run() throws {
        guard FileManager.default.fileExists(atPath: database) else { throw ValidationError("no database at \(database)") }
        guard !FileManager.default.fileExists(atPath: to) else { throw ValidationError("\(to) exists; choose a new file") }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        let source = try DatabaseQueue(path: database, configuration: configuration)
        let destination = try DatabaseQueue(path: to)
        try source.backup(to: destination)
        let check = try destination.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "?" }
        try destination.close()
        guard check == "ok" else { throw ValidationError("the copy at \(to) fails its integrity check: \(check)") }
        let size = (try? FileManager.default.attributesOfItem(atPath: to)[.size] as? Int) ?? 0
        print("backed up \(database) to \(to) (\(size) bytes, integrity ok)")
    }
}
