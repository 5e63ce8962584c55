import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus

/// The process's metrics: swift-metrics bootstrapped once with a Prometheus registry, whose
/// text `GET /metrics` serves. Code everywhere records through swift-metrics (`Counter`,
/// `Gauge`, `Recorder`, `Timer`); only this file knows about Prometheus.
public enum DudaoMetrics {
    private static let state = NIOLockedValueBox<PrometheusCollectorRegistry?>(nil)

    /// The registry, bootstrapping the metrics system on first use (a second call returns the same one).
    public static func bootstrap() -> PrometheusCollectorRegistry {
        state.withLockedValue { current in
            if let current { return current }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.valueHistogramBuckets["dudao_group_commit_batch_size"] = [1, 4, 16, 64, 256, 1024, 4096, 16384]
            factory.durationHistogramBuckets["dudao_group_commit_seconds"] = [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(4), .milliseconds(8), .milliseconds(16),
                .milliseconds(32), .milliseconds(64), .milliseconds(128), .milliseconds(256), .seconds(1),
            ]
            MetricsSystem.bootstrap(factory)
            current = registry
            return registry
        }
    }
}

/// Counters keyed by their label values, made once and reused (making a metric takes the
/// factory's lock; recording does not).
public final class CounterFamily: Sendable {
    private let label: String
    private let dimensionNames: [String]
    private let counters = NIOLockedValueBox<[[String]: CoreMetrics.Counter]>([:])

    public init(_ label: String, dimensions: [String]) {
        self.label = label
        self.dimensionNames = dimensions
    }

    /// Adds `amount` to the counter of these label values (in the order of `dimensions`).
    public func increment(_ values: [String], by amount: Int = 1) {
        let counter = counters.withLockedValue { cache in
            if let existing = cache[values] { return existing }
            let made = CoreMetrics.Counter(label: label, dimensions: Array(zip(dimensionNames, values)))
            cache[values] = made
            return made
        }
        counter.increment(by: amount)
    }
}

/// Gauges keyed by their label values, for figures read at scrape time.
public final class GaugeFamily: Sendable {
    private let label: String
    private let dimensionNames: [String]
    private let gauges = NIOLockedValueBox<[[String]: CoreMetrics.Gauge]>([:])

    public init(_ label: String, dimensions: [String] = []) {
        self.label = label
        self.dimensionNames = dimensions
    }

    public func record(_ values: [String], _ value: Double) {
        let gauge = gauges.withLockedValue { cache in
            if let existing = cache[values] { return existing }
            let made = CoreMetrics.Gauge(label: label, dimensions: Array(zip(dimensionNames, values)))
            cache[values] = made
            return made
        }
        gauge.record(value)
    }

    public func record(_ value: Double) { record([], value) }
}
