import DudaoCore
import DudaoService
import Logging
import ServiceLifecycle

/// Every `reporting_check_seconds`: the reminders and alerts for reports not sent
/// (``IndicatorsModel/checkReporting(now:)``). A `Service`, stopped by graceful shutdown.
struct ReportingLoop: Service {
    let model: IndicatorsModel
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await repeatEvery(interval) { _ in
            do {
                try await model.checkReporting(now: .now())
            } catch {
                logger.error("reporting check failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
