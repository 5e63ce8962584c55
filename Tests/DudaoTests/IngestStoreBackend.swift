import DudaoStorage
import DudaoTesting
import Logging
import Testing

@testable import dudao_ingest

/// The ingest's two storage backends, for tests that must hold on both: SQLite (a file in a
/// test folder) and PostgreSQL (a fresh database on the tests' real server).
enum IngestStoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// Somewhere empty to keep a store: a file path or a database URL.
    func freshPlace(in directory: TestDirectory) throws -> String {
        switch self {
        case .sqlite: directory.file("ingest.sqlite")
        case .postgres: try PostgresServer.shared.freshDatabase("ingest")
        }
    }

    /// Opens (a restart opens again) the store at `place`.
    func open(_ place: String) throws -> any IngestStore {
        switch self {
        case .sqlite: try SQLiteIngestStore(path: place)
        case .postgres: try PostgresIngestStore(location: PostgresLocation(url: place), readers: 1, logger: Logger(label: "test"))
        }
    }
}
