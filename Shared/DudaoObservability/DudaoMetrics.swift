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

/// Metrics of one name keyed by their label values, made once and reused (making a metric takes
/// the factory's lock; recording does not).
public final class MetricFamily<Metric: Sendable>: Sendable {
    private let make: @Sendable ([(String, String)]) -> Metric
    private let dimensionNames: [String]
    private let made = NIOLockedValueBox<[[String]: Metric]>([:])

    init(dimensions: [String], make: @escaping @Sendable ([(String, String)]) -> Metric) {
        self.dimensionNames = dimensions
        self.make = make
    }

    /// The metric of these label values (in the order of `dimensions`).
    func metric(_ values: [String]) -> Metric {
        made.withLockedValue { cache in
            if let existing = cache[values] { return existing }
            let metric = make(Array(zip(dimensionNames, values)))
            cache[values] = metric
            return metric
        }
    }
}

/// Counters keyed by their label values.
public typealias CounterFamily = MetricFamily<CoreMetrics.Counter>

extension MetricFamily where Metric == CoreMetrics.Counter {
    public convenience init(_ label: String, dimensions: [String]) {
        self.init(dimensions: dimensions) { CoreMetrics.Counter(label: label, dimensions: $0) }
    }

    /// Adds `amount` to the counter of these label values (in the order of `dimensions`).
    public func increment(_ values: [String], by amount: Int = 1) { metric(values).increment(by: amount) }
}

/// Gauges keyed by their label values, for figures read at scrape time.
public typealias GaugeFamily = MetricFamily<CoreMetrics.Gauge>

extension MetricFamily where Metric == CoreMetrics.Gauge {
    public convenience init(_ label: String, dimensions: [String] = []) {
        self.init(dimensions: dimensions) { CoreMetrics.Gauge(label: label, dimensions: $0) }
    }

    public func record(_ values: [String], _ value: Double) { metric(values).record(value) }

    public func record(_ value: Double) { record([], value) }
}
