import DudaoCore
import DudaoStorage
import Logging

extension SafetyEngine {
    /// Opens (creating when new) the database at `location` and loads the engine from it.
    /// `exclusive`: refuse to start beside another instance on the same PostgreSQL schema.
    static func open(
        location: StoreLocation, clock: any DudaoClock, settings: SafetySettings, logger: Logger, exclusive: Bool = false
    ) throws -> SafetyEngine {
        let database = try location.open(
            schema: "dudao_safety", applicationName: "dudao-safety", migrations: SafetyStore.migrations, logger: logger,
            exclusive: exclusive)
        return try SafetyEngine(database: database, clock: clock, settings: settings, logger: logger)
    }

    /// Opens (creating when new) the SQLite file at `path` and loads the engine from it.
    static func open(
        path: String, clock: any DudaoClock = SystemClock(), settings: SafetySettings = SafetySettings(),
        logger: Logger = Logger(label: "dudao-safety")
    ) throws -> SafetyEngine {
        try open(location: .sqlite(path: path), clock: clock, settings: settings, logger: logger)
    }
}
