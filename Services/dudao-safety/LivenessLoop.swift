import DudaoCore
import DudaoService
import Logging
import ServiceLifecycle

/// Every `check_interval`: the engine's liveness check (silent devices offline, returned ones
/// confirmed online, old alarms closed); every `last_seen_flush_seconds` (rounded up to whole
/// checks), and once more on shutdown: the lazy `last_seen` flush. A `Service`, stopped by graceful shutdown.
struct LivenessLoop: Service {
    let engine: SafetyEngine
    let checkIntervalMillis: Int64
    let flushIntervalMillis: Int64
    let logger: Logger

    func run() async throws {
        let flushEvery = max(1, Int((flushIntervalMillis + checkIntervalMillis - 1) / max(checkIntervalMillis, 1)))
        await repeatEvery(.milliseconds(checkIntervalMillis)) { tick in
            await check()
            if tick % flushEvery == 0 { await flush() }
        }
        // Shutting down: this task is cancelled, and GRDB refuses work from a cancelled task.
        // The last flush runs in a task of its own so SIGTERM keeps every last_seen.
        let final = self
        await Task { await final.flush() }.value
    }

    private func check() async {
        do {
            let report = try await engine.check()
            if report.wentOffline + report.cameBack + report.closedAlarms + report.institutionsDown + report.institutionsBack > 0 {
                logger.info(
                    "liveness",
                    metadata: [
                        "offline": "\(report.wentOffline)", "online": "\(report.cameBack)", "alarms_closed": "\(report.closedAlarms)",
                        "institutions_down": "\(report.institutionsDown)", "institutions_back": "\(report.institutionsBack)",
                    ])
            }
        } catch {
            logger.error("liveness check failed", metadata: ["error": "\(error)"])
        }
    }

    private func flush() async {
        do {
            let written = try await engine.flushLastSeen()
            logger.debug("last_seen flushed", metadata: ["devices": "\(written)"])
        } catch {
            logger.error("last_seen flush failed", metadata: ["error": "\(error)"])
        }
    }
}
