import DudaoStorage
import DudaoTesting
import Foundation
import Logging
import Testing

@testable import dudao_ingest

/// The two storage backends, for tests that must hold on both: SQLite (a file in a test
/// folder) and PostgreSQL (a fresh database on the tests' real server).
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// Somewhere empty to keep a store: a file path or a database URL.
    func freshPlace(in directory: TestDirectory) throws -> String {
        switch self {
        case .sqlite: directory.file("ingest.sqlite")
        case .postgres: try PostgresServer.shared.freshDatabase("ingest")
        }
    }

    /// Where the service `name` of the test using `directory` keeps its state: the same place
    /// every time it is asked (a reopening, a restart), empty the first time. On PostgreSQL the
    /// database's URL is kept in the folder.
    func location(_ name: String, in directory: TestDirectory) throws -> StoreLocation {
        switch self {
        case .sqlite:
            return .sqlite(path: directory.file("\(name).sqlite"))
        case .postgres:
            let note = directory.file("\(name).postgres-url")
            if let url = try? String(contentsOfFile: note, encoding: .utf8) { return .postgres(try PostgresLocation(url: url)) }
            let url = try PostgresServer.shared.freshDatabase(name)
            try url.write(toFile: note, atomically: true, encoding: .utf8)
            return .postgres(try PostgresLocation(url: url))
        }
    }

    /// The environment that puts a real `dudao-ingest` on this backend (PostgreSQL: a fresh
    /// database; SQLite: the fixture's own file).
    func ingestEnvironment() throws -> [String: String] {
        switch self {
        case .sqlite: [:]
        case .postgres: ["DUDAO_INGEST_DATABASE": try PostgresServer.shared.freshDatabase("ingest")]
        }
    }

    /// Opens (a restart opens again) the ingest's store at `place`.
    /// - Parameter pendingLimits: SQLite's pending (sender, id) pairs (small: copied often).
    func open(_ place: String, pendingLimits: PendingPairs.Limits = .init()) throws -> any IngestStore {
        switch self {
        case .sqlite: try SQLiteIngestStore(path: place, pendingLimits: pendingLimits)
        case .postgres: try PostgresIngestStore(location: PostgresLocation(url: place), readers: 1, logger: Logger(label: "test"))
        }
    }
}
