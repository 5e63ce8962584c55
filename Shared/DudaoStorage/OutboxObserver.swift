import GRDB
import NIOConcurrencyHelpers

/// Rings a doorbell after every commit that queued a frame in the outbox, so the sender wakes
/// at once instead of finding the frame on its next poll.
public final class OutboxObserver: TransactionObserver, Sendable {
    private let doorbell: Doorbell
    /// Whether the transaction under way inserted into the outbox (touched only by GRDB on the
    /// writer connection; boxed so the observer is `Sendable`).
    private let inserted = NIOLockedValueBox(false)

    public init(doorbell: Doorbell) { self.doorbell = doorbell }

    public func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .insert(let table) = eventKind { return table == "outbox" }
        return false
    }

    public func databaseDidChange(with event: DatabaseEvent) {
        inserted.withLockedValue { $0 = true }
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    public func databaseDidCommit(_ db: Database) {
        let ring = inserted.withLockedValue { inserted in
            defer { inserted = false }
            return inserted
        }
        if ring { doorbell.ring() }
    }

    public func databaseDidRollback(_ db: Database) {
        inserted.withLockedValue { $0 = false }
    }
}
