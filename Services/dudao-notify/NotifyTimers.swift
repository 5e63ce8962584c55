import DudaoService
import Logging
import ServiceLifecycle

/// Every `tick_seconds`: the alerting state machine's timers (group wait and interval, repeat,
/// escalation, silence expiry) in one write, and about every ten minutes the housekeeping
/// (old alerts and deliveries). Stopped by graceful shutdown.
struct NotifyTimers: Service {
    let writer: NotifyWriter
    let engine: AlertEngine
    let tickSeconds: Double
    let logger: Logger

    func run() async throws {
        let housekeepingEvery = max(1, Int(600 / tickSeconds))
        await repeatEvery(.milliseconds(Int64(tickSeconds * 1000))) { ticks in
            await tick(housekeeping: ticks % housekeepingEvery == 1)
        }
    }

    private func tick(housekeeping: Bool) async {
        do {
            _ = try await writer.perform { [engine] db, now, effects in
                try engine.tick(db: db, now: now, effects: &effects)
                if housekeeping { try engine.compact(db: db, now: now) }
                return nil
            }
        } catch {
            logger.error("timers failed", metadata: ["error": "\(error)"])
        }
    }
}
