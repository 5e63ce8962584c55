import DudaoCore
import NIOConcurrencyHelpers

/// Where the alerting state machine gets the time from.
///
/// Every time-based rule (group wait, group interval, repeat, escalation, silence expiry,
/// retry backoff) compares against `now()`, so tests can drive them with ``ManualClock``.
protocol NotifyClock: Sendable {
    func now() -> Timestamp
}

/// The wall clock.
struct SystemClock: NotifyClock {
    func now() -> Timestamp { .now() }
}

/// A clock that only moves when told to (tests of the state machine).
final class ManualClock: NotifyClock {
    private let current: NIOLockedValueBox<Timestamp>

    init(_ start: Timestamp = Timestamp(rfc3339: "2026-11-29T08:00:00+08:00")!) {
        current = NIOLockedValueBox(start)
    }

    func now() -> Timestamp { current.withLockedValue { $0 } }

    /// Moves the clock forward by `seconds`.
    func advance(seconds: Double) {
        current.withLockedValue { $0 = Timestamp(millis: $0.millis + Int64((seconds * 1000).rounded())) }
    }
}

extension Timestamp {
    /// This time plus `seconds`.
    func adding(seconds: Double) -> Timestamp { Timestamp(millis: millis + Int64((seconds * 1000).rounded())) }
}
