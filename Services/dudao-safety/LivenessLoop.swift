import DudaoCore
import Logging

/// Every `check_interval`: the engine's liveness check (silent devices offline, returned ones
/// confirmed online, old alarms closed); every `last_seen_flush_seconds`, and once more on
/// shutdown: the lazy `last_seen` flush.
struct LivenessLoop: Sendable {
    let engine: SafetyEngine
    let checkIntervalMillis: Int64
    let flushIntervalMillis: Int64
    let logger: Logger

    func run() async {
        var lastFlush = Timestamp.now().millis
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(checkIntervalMillis)) } catch { break }
            do {
                let report = try await engine.check()
                if report.wentOffline + report.cameBack + report.closedAlarms > 0 {
                    logger.info(
                        "liveness",
                        metadata: [
                            "offline": "\(report.wentOffline)", "online": "\(report.cameBack)", "alarms_closed": "\(report.closedAlarms)",
                        ])
                }
            } catch {
                logger.error("liveness check failed", metadata: ["error": "\(error)"])
            }
            let now = Timestamp.now().millis
            if now - lastFlush >= flushIntervalMillis {
                lastFlush = now
                await flush()
            }
        }
        await flush()
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
