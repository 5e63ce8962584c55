import CoreMetrics

/// A histogram of values (batch sizes), through swift-metrics.
public struct ValueHistogram: Sendable {
    private let recorder: Recorder

    public init(_ label: String) { recorder = Recorder(label: label, aggregate: true) }

    public func record(_ value: Int) { recorder.record(value) }
}

/// A histogram of durations (commit and fsync latency), through swift-metrics.
public struct DurationHistogram: Sendable {
    private let timer: CoreMetrics.Timer

    public init(_ label: String) { timer = CoreMetrics.Timer(label: label) }

    public func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
