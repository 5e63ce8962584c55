import DudaoCore
import NIOConcurrencyHelpers

/// Where the liveness rules read the time: the system clock in production, a manual clock in
/// tests (so "offline after exactly `offline_after`" can be checked to the millisecond).
protocol SafetyClock: Sendable {
    /// The current time.
    func now() -> Timestamp
}

/// The wall clock (`CLOCK_REALTIME`), the one the ingest stamps `received_at` with.
struct SystemClock: SafetyClock {
    func now() -> Timestamp { .now() }
}

/// A clock that moves only when told to.
final class ManualClock: SafetyClock {
    private let current: NIOLockedValueBox<Timestamp>

    init(_ start: Timestamp) { current = NIOLockedValueBox(start) }

    func now() -> Timestamp { current.withLockedValue { $0 } }

    /// Moves the clock forward by `millis`.
    func advance(millis: Int64) {
        current.withLockedValue { $0.millis += millis }
    }

    /// Moves the clock forward by `seconds`.
    func advance(seconds: Double) { advance(millis: Int64(seconds * 1000)) }
}
