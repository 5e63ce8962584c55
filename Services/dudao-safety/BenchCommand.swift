import ArgumentParser
import Foundation

/// `dudao-safety bench`: the measurements behind the README's figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the safety service: `state` in process, `e2e` through a running ingest + safety.",
        subcommands: [BenchStateCommand.self, BenchEndToEndCommand.self])
}

/// Percentiles and rates for the benchmark reports.
enum BenchMath {
    /// The `p` quantile (0...1) of `sorted` (nearest rank), 0 when empty.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.0f MB", Double(bytes) / 1_048_576) }
}
