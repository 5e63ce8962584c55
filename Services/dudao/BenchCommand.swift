import ArgumentParser
import DudaoBench
import DudaoCore
import DudaoWire
import Foundation

/// `dudao bench`: the benchmarks (the synthetic data and drivers live in DudaoBench, linked
/// into this CLI and the tests, never into a service).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract:
            "Benchmarks: the ingest over the wire (default), the indicator engine in-process, safety and notify through real services.",
        subcommands: [IngestBench.self, IndicatorsBench.self, SafetyBenchCommand.self, NotifyBenchCommand.self],
        defaultSubcommand: IngestBench.self)
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

/// `dudao bench [ingest]`: durable acknowledged feeds per second and ack latency against a
/// running `dudao-ingest`, over real mutual TLS.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure acknowledged feeds/s and ack latency (p50/p99) against a running dudao-ingest.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Feed shape: heartbeat (~200 B safety.heartbeat) or census (~4 KB preschool.census).")
    var feed: String = "heartbeat"

    @Option(help: "Concurrent connections (comma-separated for several runs, e.g. 1,8,64).")
    var connections: String = "1,8,64"

    @Option(help: "Feeds per run.")
    var count: Int = 20_000

    @Option(help: "Frames in flight per connection.")
    var window: Int = 8

    @Option(
        name: .customLong("also-port"),
        help: "Another instance's port on the same host (repeatable; instances sharing one PostgreSQL database): connections are spread over every port.")
    var alsoPorts: [Int] = []

    func run() async throws {
        let runID = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
        // A town and a kindergarten to hang the feeds on.
        let setup = try await connection.connect()
        let town = "bench-town"
        let institution = "bench-kg-\(runID)"
        _ = try await setup.request(FeedFile.envelope(
            id: "bench-\(runID)-town", type: "registry.town",
            body: ["town_id": .string(town), "name": "压测镇", "kind": "town"]))
        let registered = try await setup.request(FeedFile.envelope(
            id: "bench-\(runID)-kg", type: "registry.institution",
            body: ["institution_id": .string(institution), "name": "压测幼儿园", "town_id": .string(town), "level": "kindergarten",
                   "ownership": "public"]))
        await setup.close()
        guard case .ack = Answer(registered) else {
            throw ValidationError("could not register the bench kindergarten: \(JSONWriter.string(registered))")
        }
        print("feed\tconnections\tfeeds\tseconds\tfeeds/s\tp50 ms\tp99 ms\tmax ms\tbytes/feed")
        for text in connections.split(separator: ",") {
            guard let n = Int(text), n > 0 else { throw ValidationError("--connections takes numbers like 1,8,64") }
            let perConnection = max(1, count / n)
            let started = DispatchTime.now().uptimeNanoseconds
            let results = try await withThrowingTaskGroup(of: [Double].self) { group in
                for c in 0..<n {
                    group.addTask {
                        try await self.runConnection(index: c, feeds: perConnection, runID: "\(runID)-\(n)", institution: institution)
                    }
                }
                var all: [Double] = []
                for try await latencies in group { all += latencies }
                return all
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let sorted = results.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            let size = JSONWriter.bytes(frame(index: 0, n: 0, runID: runID, institution: institution)).count
            print(String(format: "%@\t%d\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.2f\t%d", feed, n, sorted.count, seconds,
                         Double(sorted.count) / seconds, percentile(0.5), percentile(0.99), sorted.last ?? 0, size))
        }
    }

    /// One connection: keeps `window` frames in flight; returns each ack's latency in ms.
    func runConnection(index: Int, feeds: Int, runID: String, institution: String) async throws -> [Double] {
        let ports = [connection.port] + alsoPorts
        let client = try await connection.connect(port: ports[index % ports.count])
        var sentAt = [UInt64](repeating: 0, count: feeds)
        var latencies: [Double] = []
        latencies.reserveCapacity(feeds)
        var sent = 0
        while sent < min(window, feeds) {
            sentAt[sent] = DispatchTime.now().uptimeNanoseconds
            try await client.send(frame(index: index, n: sent, runID: runID, institution: institution), flush: false)
            sent += 1
        }
        client.flush()
        var received = 0
        while received < feeds {
            guard let reply = try await client.receive() else { throw WireClientError.closed }
            guard case .ack = Answer(reply) else {
                throw ValidationError("unexpected reply: \(JSONWriter.string(reply))")
            }
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - sentAt[received]) / 1e6)
            received += 1
            if sent < feeds {
                sentAt[sent] = DispatchTime.now().uptimeNanoseconds
                try await client.send(frame(index: index, n: sent, runID: runID, institution: institution))
                sent += 1
            }
        }
        await client.close()
        return latencies
    }

    func frame(index: Int, n: Int, runID: String, institution: String) -> JSONValue {
        let id = "bench-\(runID)-\(index)-\(n)"
        let at = Timestamp(millis: 1_750_000_000_000 + Int64(n) * 1000).description
        if feed == "census" {
            var classes: [JSONValue] = []
            for k in 0..<40 {
                classes.append(["class_id": .string("c-\(k)"), "level": "middle", "children": 28, "teachers": 2, "caregivers": 1])
            }
            return FeedFile.envelope(
                id: id, type: "preschool.census",
                body: ["institution_id": .string(institution), "year": .int(Int64(2025)), "as_of": .string(at),
                       "classes": .array(classes), "full_time_teachers": 80, "caregivers": 40, "staff_total": 150,
                       "certified_teachers": 80, "disabled_children_certified": 2])
        }
        return FeedFile.envelope(
            id: id, type: "safety.heartbeat",
            body: ["device_id": .string("bench-\(runID)-dev-\(index)"), "institution_id": .string(institution),
                   "device_kind": "alarm", "at": .string(at), "status": "ok"])
    }
}

/// `dudao bench indicators`: a full evaluation and incremental updates of the engine on a
/// synthetic province (no service needed).
struct IndicatorsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "indicators",
        abstract: "Time a full evaluation and incremental updates on a synthetic province (no service needed).")

    @Option(help: "Institutions in the synthetic province.")
    var institutions: Int = 50_000

    @Option(help: "Classes per institution.")
    var classes: Int = 4

    func run() throws {
        print(EvaluationBenchmark.run(institutions: institutions, classesPerInstitution: classes))
    }
}
