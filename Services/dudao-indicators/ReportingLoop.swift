import DudaoCore
import DudaoService
import Logging
import ServiceLifecycle

/// Every `reporting_check_seconds`: the reminders and alerts for reports not sent and projects
/// behind schedule (``IndicatorsModel/checkReporting(now:)``); the first check 10 s after start
/// (or sooner with a shorter interval), not a whole interval later. A `Service`, stopped by
/// graceful shutdown.
struct ReportingLoop: Service {
    let model: IndicatorsModel
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let check: @Sendable (Int) async -> Void = { [model, logger] _ in
            do {
                try await model.checkReporting(now: .now())
            } catch {
                logger.error("reporting check failed", metadata: ["error": "\(error)"])
            }
        }
        await cancelWhenGracefulShutdown {
            do { try await Task.sleep(for: min(interval, .seconds(10))) } catch { return }
            await check(0)
        }
        await repeatEvery(interval, check)
    }
}
