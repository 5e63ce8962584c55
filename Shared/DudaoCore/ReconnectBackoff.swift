/// How a link to another service is retried after it broke (the log consumer, the outbox
/// sender): 0.1 s doubling to 10 s, each wait jittered by ±20 % so that services restarted
/// together do not reconnect in lockstep; a working connection starts again from 0.1 s.
public struct ReconnectBackoff: Sendable {
    public let initial: Double
    public let maximum: Double
    /// The wait before the next attempt, in seconds (before jitter).
    public private(set) var seconds: Double

    public init(initial: Double = 0.1, maximum: Double = 10) {
        self.initial = initial
        self.maximum = maximum
        seconds = initial
    }

    /// A connection worked: the next failure waits `initial` again.
    public mutating func reset() { seconds = initial }

    /// Sleeps for the current wait (jittered), then doubles it up to `maximum`. Returns early
    /// when the task is cancelled.
    public mutating func wait() async {
        try? await Task.sleep(for: .seconds(seconds * Double.random(in: 0.8...1.2)))
        seconds = min(seconds * 2, maximum)
    }
}
