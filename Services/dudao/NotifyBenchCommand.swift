import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation

/// `dudao bench notify`: alerts routed and delivered per second to a local webhook, and the
/// latency from sending the event to the webhook receiving it (p50/p99).
///
/// It starts a webhook receiver in this process and a real `dudao-notify serve` (the executable
/// beside `dudao`, or `--notify`) as a child process on a scratch database, then sends `--alerts` events over mutual
/// TLS as `dudao-safety`, each its own alert (grouped by `alert_key`, no group wait), with
/// `--window` events in flight.
struct NotifyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Measure alerts routed+delivered/s to a local webhook and the delivery latency (p50/p99).")

    @Option(help: "The dudao-notify executable (default: the one beside this dudao).")
    var notify: String?

    @Option(help: "Folder made by `dudao certs init` (ca.pem, dudao-notify.*, dudao-safety.*).")
    var certs: String = "run/certs"

    @Option(help: "Alerts per run.")
    var alerts: Int = 5000

    @Option(help: "Events in flight on the connection (comma-separated for several runs).")
    var window: String = "1,64,512"

    @Option(help: "Deliveries in flight in dudao-notify.")
    var concurrency: Int = 64

    @Flag(help: "Keep the scratch folder (database, logs).")
    var keep = false

    func run() async throws {
        let certs = URL(fileURLWithPath: self.certs).standardizedFileURL.path
        for name in ["ca.pem", "dudao-notify.pem", "dudao-notify.key", "dudao-safety.pem", "dudao-safety.key"]
        where !FileManager.default.fileExists(atPath: "\(certs)/\(name)") {
            throw ValidationError("missing \(certs)/\(name): run `dudao certs init \(self.certs)` or pass --certs")
        }
        let windows = window.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        guard !windows.isEmpty, alerts > 0 else { throw ValidationError("--window takes numbers like 1,64,512; --alerts > 0") }
        print("alerts\twindow\tacked/s\tdelivered/s\tp50 ms\tp99 ms\tmax ms\tdb")
        for window in windows {
            try await runOnce(certs: certs, window: window)
        }
    }

    private func runOnce(certs: String, window: Int) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dudao-notify-bench-\(UUID().uuidString.prefix(8))"
        ).path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: scratch) } }
        let receiver = try await BenchReceiver.start()
        try #"{"identities": {"dudao-safety": {"role": "service"}, "operator": {"role": "operator"}}}"#
            .write(toFile: "\(scratch)/access.json", atomically: true, encoding: .utf8)
        try """
        {"routes": [{"match": {}, "to": ["education"], "group_by": ["alert_key"], "group_wait_seconds": 0}],
         "departments": {"education": {"channels": [
           {"type": "webhook", "url": "http://127.0.0.1:\(receiver.port)/education", "secret": "bench", "timeout_seconds": 10}]}}}
        """.write(toFile: "\(scratch)/routes.json", atomically: true, encoding: .utf8)
        try """
        {"listen": {"host": "127.0.0.1", "port": 0},
         "tls": {"ca": "\(certs)/ca.pem", "certificate": "\(certs)/dudao-notify.pem", "key": "\(certs)/dudao-notify.key"},
         "access_file": "access.json", "routes_file": "routes.json", "database": "notify.sqlite",
         "delivery": {"concurrency": \(concurrency)}}
        """.write(toFile: "\(scratch)/notify.json", atomically: true, encoding: .utf8)

        let (process, port) = try launchService(config: "\(scratch)/notify.json", log: "\(scratch)/notify.log")
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let tls = try TLSFiles(directory: certs, name: "dudao-safety").makeClientContext()
        let client = try await WireClient.connect(host: "127.0.0.1", port: port, tls: tls)
        let run = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36)
        var sentAt = [UInt64](repeating: 0, count: alerts)
        let started = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        var acked = 0
        func frame(_ n: Int) -> JSONValue {
            AlertEvent(
                type: .deviceOffline, id: "bench-\(run)-\(n)", severity: .warning, alertKey: "bench:\(run):\(n)",
                status: .firing, scope: "institution:bench-kg", townID: "bench-town", institutionID: "bench-kg",
                deviceID: "bench-dev-\(n)", summary: "压测镇 压测幼儿园 的一键报警 bench-dev-\(n) 离线：180 秒未收到心跳",
                details: ["device_kind": "alarm", "offline_after_seconds": 180], at: .now()
            ).frame
        }
        while sent < min(window, alerts) {
            sentAt[sent] = DispatchTime.now().uptimeNanoseconds
            try await client.send(frame(sent), flush: false)
            sent += 1
        }
        client.flush()
        while acked < alerts {
            guard let reply = try await client.receive() else { throw WireClientError.closed }
            guard case .ack = Answer(reply) else { throw ValidationError("unexpected reply: \(JSONWriter.string(reply))") }
            acked += 1
            if sent < alerts {
                sentAt[sent] = DispatchTime.now().uptimeNanoseconds
                try await client.send(frame(sent))
                sent += 1
            }
        }
        let ackedAt = DispatchTime.now().uptimeNanoseconds
        await client.close()
        let deadline = Date().addingTimeInterval(300)
        while receiver.received.count < alerts, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let arrivals = receiver.received
        await receiver.stop()
        var latencies: [Double] = []
        var last: UInt64 = started
        for n in 0..<alerts {
            guard let at = arrivals["bench:\(run):\(n)"] else { continue }
            latencies.append(Double(at - sentAt[n]) / 1e6)
            last = max(last, at)
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { BenchMath.percentile(latencies, p) }
        let ackSeconds = Double(ackedAt - started) / 1e9
        let deliverSeconds = Double(last - started) / 1e9
        let size = (try? FileManager.default.attributesOfItem(atPath: "\(scratch)/notify.sqlite")[.size] as? Int) ?? 0
        print(
            String(
                format: "%d\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f MB", latencies.count, window, Double(alerts) / ackSeconds,
                Double(latencies.count) / deliverSeconds, percentile(0.5), percentile(0.99), latencies.last ?? 0,
                Double(size) / 1e6))
        if latencies.count < alerts {
            print("warning: only \(latencies.count) of \(alerts) alerts reached the webhook; see \(scratch)/notify.log")
        }
    }

    /// Starts `dudao-notify serve` and waits for its port.
    private func launchService(config: String, log: String) throws -> (Process, Int) {
        let process = Process()
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let exe = notify ?? URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent("dudao-notify").path
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw ValidationError("no dudao-notify executable at \(exe); pass --notify PATH")
        }
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["serve", "--config", config]
        let out = Pipe()
        process.standardOutput = out
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        var buffer = Data()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.contains("listening on") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                return (process, port)
            }
        }
        process.terminate()
        throw ValidationError("dudao-notify did not start; see \(log)")
    }
}
