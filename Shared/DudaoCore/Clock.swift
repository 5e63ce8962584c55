import Synchronization

/// Where time-based rules read the time: the system clock in production, ``ManualClock`` in
/// tests and in benchmarks that simulate hours (safety's liveness rules, notify's group wait,
/// repeat, escalation, silences and retry backoff).
public protocol DudaoClock: Sendable {
    /// The current time.
    func now() -> Timestamp
}

/// The wall clock (`CLOCK_REALTIME`), the one the ingest stamps `received_at` with.
public struct SystemClock: DudaoClock {
    public init() {}

    public func now() -> Timestamp { .now() }
}

/// A clock that moves only when told to (so "offline after exactly `offline_after`" can be
/// checked to the millisecond).
public final class ManualClock: DudaoClock {
    private let current: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(rfc3339: "2026-11-29T08:00:00+08:00")!) { current = Mutex(start) }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward by `millis`.
    public func advance(millis: Int64) {
        current.withLock { $0.millis += millis }
    }

    /// Moves the clock forward by `seconds` (rounded to the millisecond).
    public func advance(seconds: Double) { advance(millis: Int64((seconds * 1000).rounded())) }
}

extension Timestamp {
    /// This time plus `seconds` (rounded to the millisecond).
    public func adding(seconds: Double) -> Timestamp { Timestamp(millis: millis + Int64((seconds * 1000).rounded())) }
}
