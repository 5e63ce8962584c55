import DudaoCore
import DudaoLinks
import Foundation
import Logging
import Testing

@testable import dudao_safety

/// The safety engine alone, in process, on a real SQLite file — how fast heartbeats update a
/// province's devices, what the periodic check and the `last_seen` flush cost, and the resident
/// memory with 1 000 000 devices. A benchmark kept with the tests (it drives the engine's
/// internals) so that nothing of it is linked into `dudao-safety`:
///
///     DUDAO_BENCH_DEVICES=1000000 swift test -c release -Xswiftc -enable-testing --filter SafetyStateBenchmark
///
/// prints the figures; the plain suite runs it on 2 000 devices and checks that every figure is
/// reported (no timing is asserted).
@Suite struct SafetyStateBenchmark {
    @Test func aSmallRunReportsEveryFigure() async throws {
        let report = try await Self.run(devices: 2000, rounds: 1, institutions: 100, towns: 5, batch: 512)
        #expect(report.contains("safety state benchmark: 2000 devices, 100 institutions, 5 towns, batch 512"), "\(report)")
        #expect(report.contains("first heartbeat of each device (new rows)\t2000\t"), "\(report)")
        #expect(report.contains("heartbeats, round 1 (known devices)\t2000\t"), "\(report)")
        #expect(report.contains("liveness check over 2000 devices:"), "\(report)")
        #expect(report.contains("restart: 2000 devices loaded from SQLite"), "\(report)")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["DUDAO_BENCH_DEVICES"] != nil))
    func aProvince() async throws {
        let devices = Int(ProcessInfo.processInfo.environment["DUDAO_BENCH_DEVICES"] ?? "") ?? 1_000_000
        Swift.print(try await Self.run(devices: devices))
    }

    /// The report: one figure a line.
    static func run(devices: Int, rounds: Int = 2, institutions: Int = 20_000, towns: Int = 100, batch: Int = 2048) async throws
        -> String
    {
        var lines: [String] = []
        func print(_ line: String) { lines.append(line) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dudao-safety-bench-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("safety.sqlite").path
        defer { try? FileManager.default.removeItem(at: folder) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let start = Timestamp.now()
        let clock = ManualClock(start)
        let engine = try SafetyEngine.open(path: path, clock: clock, logger: logger)
        print("safety state benchmark: \(devices) devices, \(institutions) institutions, \(towns) towns, batch \(batch)")
        print("resident at start: \(Self.megabytes(ProcessMemory.residentBytes()))")

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
            let total = Self.seconds(ContinuousClock.now - began)
            let label = round == 0 ? "first heartbeat of each device (new rows)" : "heartbeats, round \(round) (known devices)"
            table.append((label, "\(devices)", Double(devices) / Self.seconds(applying), Double(devices) / total))
        }
        print("\nstep\theartbeats\tapplied/s (engine.apply)\t/s incl. building records")
        for (label, count, applied, overall) in table {
            print(String(format: "%@\t%@\t%.0f\t%.0f", label, count, applied, overall))
        }

        clock.advance(millis: 1000)
        var began = ContinuousClock.now
        let report = try await engine.check()
        print(String(format: "\nliveness check over %d devices: %.1f ms (offline: %d)", devices, Self.seconds(ContinuousClock.now - began) * 1000, report.wentOffline))
        began = ContinuousClock.now
        let flushed = try await engine.flushLastSeen()
        print(String(format: "last_seen flush: %d rows in %.2f s", flushed, Self.seconds(ContinuousClock.now - began)))
        began = ContinuousClock.now
        _ = SafetyQueries.answer(type: "safety.overview", body: [:], engine: engine)
        print(String(format: "safety.overview (city + %d towns): %.1f ms", towns, Self.seconds(ContinuousClock.now - began) * 1000))
        print("resident with \(devices) devices: \(Self.megabytes(ProcessMemory.residentBytes()))")

        began = ContinuousClock.now
        let reloaded = try SafetyEngine.open(path: path, clock: clock, logger: logger)
        let count = reloaded.read { $0.devices.count }
        print(String(format: "restart: %d devices loaded from SQLite in %.2f s", count, Self.seconds(ContinuousClock.now - began)))
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print("SQLite file: \(Self.megabytes(size))")
        return lines.joined(separator: "\n")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.0f MB", Double(bytes) / 1_048_576) }

    static func institution(_ i: Int) -> String { "kg-\(String(100_000 + i).dropFirst())" }
    static func device(_ d: Int) -> String { "alarm-\(String(10_000_000 + d).dropFirst())-gd" }
}
