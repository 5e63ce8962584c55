import DudaoCore
import DudaoService
import Logging
import ServiceLifecycle

/// Every `compact_interval_seconds`: drops superseded records, old events and expired dedupe
/// entries that every consumer has passed (``RetentionPolicy``). Stopped by graceful shutdown.
struct CompactionLoop: Service {
    let store: any IngestStore
    let retention: RetentionPolicy
    let intervalSeconds: Int
    let logger: Logger

    func run() async throws {
        await repeatEvery(.seconds(intervalSeconds)) { _ in compactOnce() }
    }

    private func compactOnce() {
        do {
            let report = try store.compact(policy: retention, now: .now())
            if report.supersededRemoved + report.eventsRemoved + report.dedupeRemoved > 0 {
                logger.info(
                    "compacted",
                    metadata: [
                        "superseded": "\(report.supersededRemoved)", "events": "\(report.eventsRemoved)",
                        "dedupe": "\(report.dedupeRemoved)",
                    ])
            }
        } catch {
            logger.error("compaction failed", metadata: ["error": "\(error)"])
        }
    }
}
