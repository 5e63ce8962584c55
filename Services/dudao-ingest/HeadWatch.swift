import DudaoService
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// With several instances on one PostgreSQL database, records committed by another instance
/// reach this one's subscribers through here: the log head is read every `interval` and the
/// hub told when it moved (a single-row read by primary key). Local commits are published by
/// the committer, as on SQLite. News of another instance's records is never held back
/// (``LogHub``): whether one of them is urgent (an alarm) is not known here without reading them.
struct HeadWatch: Service {
    let store: any IngestStore
    let hub: LogHub
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let failing = NIOLockedValueBox(false)
        await repeatEvery(interval) { [store, hub, logger] _ in
            do {
                let head = try store.head()
                if failing.withLockedValue({ $0 }) { logger.info("reading the log head again") }
                failing.withLockedValue { $0 = false }
                if head > hub.head { hub.published(upTo: head, urgent: true) }
            } catch {
                if !failing.withLockedValue({ $0 }) { logger.warning("cannot read the log head", metadata: ["error": "\(error)"]) }
                failing.withLockedValue { $0 = true }
            }
        }
    }
}
