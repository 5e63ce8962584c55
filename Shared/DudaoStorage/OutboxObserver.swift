import GRDB
import NIOConcurrencyHelpers

/// Rings a doorbell after every commit that queued a frame in the outbox, so the sender wakes
/// at once instead of finding the frame on its next poll.
final class OutboxObserver: TransactionObserver, Sendable {
    private let doorbell: Doorbell
    /// Whether the transaction under way inserted into the outbox (touched only by GRDB on the
    /// writer connection; boxed so the observer is `Sendable`).
    private let inserted = NIOLockedValueBox(false)

    init(doorbell: Doorbell) { self.doorbell = doorbell }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .insert(let table) = eventKind { return table == "outbox" }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {
        inserted.withLockedValue { $0 = true }
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    func databaseDidCommit(_ db: Database) {
        let ring = inserted.withLockedValue { inserted in
            defer { inserted = false }
            return inserted
        }
        if ring { doorbell.ring() }
    }

    func databaseDidRollback(_ db: Database) {
        inserted.withLockedValue { $0 = false }
    }
}
