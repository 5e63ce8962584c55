import ArgumentParser
import DudaoLinks
import DudaoCore
import Foundation
import Logging

/// `dudao-safety bench state`: the engine alone, in process, on a real SQLite file — how fast
/// heartbeats update a province's devices, what the periodic check and the `last_seen` flush
/// cost, and the resident memory with 1 000 000 devices.
struct BenchStateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "In-process: heartbeats/s into the engine and resident memory for N devices.")

    @Option(help: "Devices to track.")
    var devices: Int = 1_000_000

    @Option(help: "Heartbeat rounds over every device after the first (which creates them).")
    var rounds: Int = 2

    @Option(help: "Institutions the devices belong to.")
    var institutions: Int = 20_000

    @Option(help: "Towns the institutions belong to.")
    var towns: Int = 100

    @Option(help: "Records per applied batch (the service's consumer_batch).")
    var batch: Int = 2048

    @Option(help: "SQLite file to use (default: a fresh file in a temporary folder, removed afterwards).")
    var database: String?

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dudao-safety-bench-\(UUID().uuidString.prefix(8))")
        let path = database ?? folder.appendingPathComponent("safety.sqlite").path
        defer { if database == nil { try? FileManager.default.removeItem(at: folder) } }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let start = Timestamp.now()
        let clock = ManualClock(start)
        let engine = try SafetyEngine.open(path: path, clock: clock, logger: logger)
        print("dudao-safety bench state: \(devices) devices, \(institutions) institutions, \(towns) towns, batch \(batch)")
        print("resident at start: \(BenchMath.megabytes(ProcessMemory.residentBytes()))")

        var seq = engine.read { $0.position }
        func nextSeq() -> Int64 {
            seq += 1
            return seq
        }
        var registry: [LogRecord] = []
        for t in 0..<towns { registry.append(SafetyRecords.town(seq: nextSeq(), id: "town-\(t)", name: "镇\(t)", at: start)) }
        for i in 0..<institutions {
            registry.append(
                SafetyRecords.institution(seq: nextSeq(), id: Self.institution(i), name: "幼儿园\(i)", town: "town-\(i % towns)", at: start))
        }
        for chunk in stride(from: 0, to: registry.count, by: batch) {
            try await engine.apply(Array(registry[chunk..<min(chunk + batch, registry.count)]))
        }
        registry = []

        var table: [(String, String, Double, Double)] = []
        for round in 0...rounds {
            let at = Timestamp(millis: start.millis + Int64(round) * 60_000)
            clock.advance(millis: round == 0 ? 0 : 60_000)
            var applying = Duration.zero
            let began = ContinuousClock.now
            var device = 0
            while device < devices {
                var records: [LogRecord] = []
                records.reserveCapacity(batch)
                for d in device..<min(device + batch, devices) {
                    records.append(
                        SafetyRecords.heartbeat(
                            seq: nextSeq(), device: Self.device(d), institution: Self.institution(d % institutions),
                            at: Timestamp(millis: at.millis + Int64(d % 1000)), receivedAt: clock.now()))
                }
                let applyStart = ContinuousClock.now
                try await engine.apply(records)
                applying += ContinuousClock.now - applyStart
                device += batch
            }
            let total = BenchMath.seconds(ContinuousClock.now - began)
            let label = round == 0 ? "first heartbeat of each device (new rows)" : "heartbeats, round \(round) (known devices)"
            table.append((label, "\(devices)", Double(devices) / BenchMath.seconds(applying), Double(devices) / total))
        }
        print("\nstep\theartbeats\tapplied/s (engine.apply)\t/s incl. building records")
        for (label, count, applied, overall) in table {
            print(String(format: "%@\t%@\t%.0f\t%.0f", label, count, applied, overall))
        }

        clock.advance(millis: 1000)
        var began = ContinuousClock.now
        let report = try await engine.check()
        print(String(format: "\nliveness check over %d devices: %.1f ms (offline: %d)", devices, BenchMath.seconds(ContinuousClock.now - began) * 1000, report.wentOffline))
        began = ContinuousClock.now
        let flushed = try await engine.flushLastSeen()
        print(String(format: "last_seen flush: %d rows in %.2f s", flushed, BenchMath.seconds(ContinuousClock.now - began)))
        began = ContinuousClock.now
        _ = SafetyQueries.answer(type: "safety.overview", body: [:], engine: engine)
        print(String(format: "safety.overview (city + %d towns): %.1f ms", towns, BenchMath.seconds(ContinuousClock.now - began) * 1000))
        print("resident with \(devices) devices: \(BenchMath.megabytes(ProcessMemory.residentBytes()))")

        began = ContinuousClock.now
        let reloaded = try SafetyEngine.open(path: path, clock: clock, logger: logger)
        let count = reloaded.read { $0.devices.count }
        print(String(format: "restart: %d devices loaded from SQLite in %.2f s", count, BenchMath.seconds(ContinuousClock.now - began)))
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print("SQLite file: \(BenchMath.megabytes(size))")
    }

    static func institution(_ i: Int) -> String { "kg-\(String(100_000 + i).dropFirst())" }
    static func device(_ d: Int) -> String { "alarm-\(String(10_000_000 + d).dropFirst())-gd" }
}
