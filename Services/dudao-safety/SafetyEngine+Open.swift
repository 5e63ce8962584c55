import DudaoCore
import DudaoStorage
import Logging

extension SafetyEngine {
    /// Opens (creating when new) the SQLite file at `path` and loads the engine from it.
    static func open(
        path: String, clock: any DudaoClock = SystemClock(), settings: SafetySettings = SafetySettings(),
        logger: Logger = Logger(label: "dudao-safety")
    ) throws -> SafetyEngine {
        let pool = try DurableDatabase.open(path: path, migrator: SafetyStore.migrator)
        return try SafetyEngine(pool: pool, clock: clock, settings: settings, logger: logger)
    }
}
