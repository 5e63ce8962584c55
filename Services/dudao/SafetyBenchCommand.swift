import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// `dudao bench safety`: heartbeats through a running `dudao-ingest` into a running
/// `dudao-safety` (configured to deliver its events to `--notify-port`, where this command
/// listens as `dudao-notify`), with one-key alarms sent alongside: heartbeats acknowledged and
/// applied per second, safety's resident memory, and the latency from an alarm's ack by the
/// ingest to its event arriving at the notify port.
struct SafetyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safety", abstract: "Through a running ingest + safety: heartbeats/s, safety RSS, alarm latency to the notify port.")

    @Option(help: "Host of dudao-ingest and dudao-safety.")
    var host: String = "127.0.0.1"

    @Option(help: "Port of dudao-ingest.")
    var ingestPort: Int = 7401

    @Option(help: "Port of dudao-safety.")
    var safetyPort: Int = 7403

    @Option(help: "Port to listen on as a stand-in for dudao-notify (dudao-safety's notify.port); not with --alerts-file.")
    var notifyPort: Int = 7404

    @Option(help: "A real dudao-notify's file channel receiving safety.alarm (JSON Lines): alarm latency is measured to the line appearing there.")
    var alertsFile: String?

    @Option(help: "Folder made by `dudao certs init` (needs ca, the identity and dudao-notify).")
    var certs: String = "run/certs"

    @Option(help: "Identity that sends the feeds.")
    var identity: String = "operator"

    @Option(help: "Distinct devices.")
    var devices: Int = 1_000_000

    @Option(help: "Heartbeats to send (default: two per device).")
    var heartbeats: Int?

    @Option(help: "Institutions the devices belong to.")
    var institutions: Int = 20_000

    @Option(help: "Towns the institutions belong to.")
    var towns: Int = 100

    @Option(help: "Concurrent heartbeat connections.")
    var connections: Int = 16

    @Option(help: "Heartbeats in flight per connection.")
    var window: Int = 64

    @Option(help: "Milliseconds between alarms sent during the load.")
    var alarmEvery: Int = 100

    @Option(help: "Heartbeats per second to offer, spread over the connections (default: as fast as acked).")
    var rate: Int?

    func run() async throws {
        let total = heartbeats ?? devices * 2
        let clientTLS = try TLSFiles(directory: certs, name: identity).makeClientContext()
        // Where alarm events are seen: a real notify's file channel, or a stand-in on the notify port.
        let tail = alertsFile.map { AlertsFileTail(path: $0) }
        tail?.start()
        let sink: EventSink? =
            tail == nil
            ? try await EventSink.start(tls: try TLSFiles(directory: certs, name: "dudao-notify").makeServerContext(), port: notifyPort) : nil
        let runID = String(UInt64(Date().timeIntervalSince1970), radix: 36)
        let pace = rate.map { rate in " at \(rate)/s" } ?? ""
        print("dudao bench safety: \(total) heartbeats\(pace) over \(devices) devices, \(connections) connections × \(window) in flight")

        // Towns and institutions, pipelined.
        let setup = try await WireClient.connect(host: host, port: ingestPort, tls: clientTLS)
        var frames: [[UInt8]] = []
        for t in 0..<towns {
            frames.append(
                Self.payload(
                    id: "bench-\(runID)-t\(t)", type: "registry.town",
                    body: ["town_id": .string("bench-town-\(t)"), "name": .string("压测镇\(t)"), "kind": "town"]))
        }
        for i in 0..<institutions {
            let body: JSONObject = [
                "institution_id": .string(Self.institution(i)), "name": .string("压测幼儿园\(i)"), "town_id": .string("bench-town-\(i % towns)"),
                "level": "kindergarten", "ownership": "public",
            ]
            frames.append(Self.payload(id: "bench-\(runID)-i\(i)", type: "registry.institution", body: body))
        }
        let setupOutcome = try await Self.pipeline(setup, frames, window: 256)
        guard setupOutcome.refused == 0 else { throw ValidationError("\(setupOutcome.refused) registry feeds were refused") }
        await setup.close()
        let registered = try await waitFor(seconds: 300) { status in (status["institutions"]?.intValue ?? 0) >= Int64(institutions) }
        guard registered else { throw ValidationError("dudao-safety did not see the institutions in time") }
        print("registered \(towns) towns and \(institutions) institutions")

        // The load, alarms alongside, safety sampled every second.
        let base = Timestamp.now().millis
        let started = ContinuousClock.now
        let loadDone = NIOLockedValueBox(false)
        let acks = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
        let peakRSS = NIOLockedValueBox(0)
        let alarmTask = Task {
            guard let client = try? await WireClient.connect(host: host, port: ingestPort, tls: clientTLS) else { return }
            var n = 0
            while !loadDone.withLockedValue({ $0 }) {
                try? await Task.sleep(for: .milliseconds(alarmEvery))
                n += 1
                let at = Timestamp.now()
                let device = "bench-alarm-\(runID)-\(n)"
                let body: JSONObject = [
                    "device_id": .string(device), "institution_id": .string(Self.institution(0)), "at": .string(at.description), "note": "压测",
                ]
                guard (try? await client.sendPayload(Self.payload(id: "bench-\(runID)-a\(n)", type: "safety.alarm", body: body))) != nil,
                    let reply = try? await client.receive(), case .ack(_, .accepted) = Answer(reply)
                else { continue }
                let acked = ContinuousClock.now
                // The alarm's alert key: what both the stand-in (by event id) and notify's messages carry.
                acks.withLockedValue { $0[Self.alarmAlertKey(device: device, at: at.millis)] = acked }
            }
            await client.close()
        }
        let monitor = Task {
            var last = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let status = try? await safetyStatus() else { continue }
                let rss = Int(status["resident_bytes"]?.intValue ?? 0)
                peakRSS.withLockedValue { $0 = max($0, rss) }
                if ContinuousClock.now - last >= .seconds(5) {
                    last = ContinuousClock.now
                    let elapsed = BenchMath.seconds(ContinuousClock.now - started)
                    print(String(format: "  %5.0f s  safety: position %lld, devices %lld, resident %@", elapsed,
                                 status["position"]?.intValue ?? 0, status["devices"]?.intValue ?? 0, BenchMath.megabytes(rss)))
                }
            }
        }
        let perConnection = total / connections
        let (stale, refused) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for c in 0..<connections {
                group.addTask {
                    let client = try await WireClient.connect(host: host, port: ingestPort, tls: clientTLS)
                    var payloads: [[UInt8]] = []
                    payloads.reserveCapacity(min(perConnection, 4096))
                    var stale = 0
                    var refused = 0
                    var k = c
                    var sent = 0
                    // Paced: chunks of 20 ms worth, each sent no earlier than its turn.
                    let perSecond = rate.map { Double($0) / Double(connections) }
                    let chunk = perSecond.map { max(1, Int($0 / 50)) } ?? 4096
                    while sent < perConnection {
                        if let perSecond {
                            let due = started + .milliseconds(Int64(Double(sent) / perSecond * 1000))
                            if due > ContinuousClock.now { try await Task.sleep(until: due) }
                        }
                        payloads.removeAll(keepingCapacity: true)
                        while payloads.count < chunk, sent < perConnection {
                            let device = k % devices
                            let at = Timestamp(millis: base + Int64(k / devices) * 60_000 + Int64(device % 1000))
                            let body: JSONObject = [
                                "device_id": .string(Self.device(device)), "institution_id": .string(Self.institution(device % institutions)),
                                "device_kind": "alarm", "at": .string(at.description), "status": "ok",
                            ]
                            payloads.append(Self.payload(id: "bench-\(runID)-h\(k)", type: "safety.heartbeat", body: body))
                            k += connections
                            sent += 1
                        }
                        let outcome = try await Self.pipeline(client, payloads, window: window)
                        stale += outcome.stale
                        refused += outcome.refused
                    }
                    await client.close()
                    return (stale, refused)
                }
            }
            return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        let sent = perConnection * connections
        let loadSeconds = BenchMath.seconds(ContinuousClock.now - started)
        loadDone.withLockedValue { $0 = true }
        await alarmTask.value

        // Until safety has applied everything the ingest holds.
        let head = try await ingestHead()
        let caughtUp = try await waitFor(seconds: 600) { status in (status["position"]?.intValue ?? 0) >= head }
        let endToEndSeconds = BenchMath.seconds(ContinuousClock.now - started)
        let final = try await safetyStatus()
        monitor.cancel()
        peakRSS.withLockedValue { $0 = max($0, Int(final["resident_bytes"]?.intValue ?? 0)) }

        // Alarm latency: ack by the ingest → the event at the notify port, or the alert in notify's file.
        let sentAlarms = acks.withLockedValue { $0 }
        func arrivals() -> [String: ContinuousClock.Instant] {
            if let tail { return tail.arrivals }
            var first: [String: ContinuousClock.Instant] = [:]
            for event in sink?.received ?? [] where !event.duplicate {
                if let key = event.body["alert_key"]?.stringValue, first[key] == nil { first[key] = event.arrived }
            }
            return first
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, Set(arrivals().keys).intersection(sentAlarms.keys).count < sentAlarms.count {
            try await Task.sleep(for: .milliseconds(100))
        }
        var latencies: [Double] = []
        for (key, arrived) in arrivals() {
            if let acked = sentAlarms[key] { latencies.append(BenchMath.seconds(arrived - acked) * 1000) }
        }
        latencies.sort()
        tail?.stop()
        await sink?.close()

        print("")
        print(String(format: "heartbeats acknowledged by the ingest: %d in %.1f s = %.0f/s (%d of them stale, %d refused)", sent, loadSeconds, Double(sent) / loadSeconds, stale, refused))
        print(String(format: "applied by dudao-safety (end to end): %@ in %.1f s = %.0f/s", caughtUp ? "all" : "NOT all", endToEndSeconds, Double(sent) / endToEndSeconds))
        print("devices tracked by dudao-safety: \(final["devices"]?.intValue ?? 0); resident memory peak \(BenchMath.megabytes(peakRSS.withLockedValue { $0 })), now \(BenchMath.megabytes(Int(final["resident_bytes"]?.intValue ?? 0)))")
        let target = tail == nil ? "event at the notify port (stand-in)" : "alert written by dudao-notify"
        print(String(format: "alarm ack (ingest) -> %@: n=%d of %d, p50 %.1f ms, p99 %.1f ms, max %.1f ms", target,
                     latencies.count, sentAlarms.count, BenchMath.percentile(latencies, 0.5), BenchMath.percentile(latencies, 0.99), latencies.last ?? 0))
    }

    /// Sends `payloads` keeping `window` in flight; returns how many were answered `stale`
    /// (two rounds of one device raced on two connections) and how many were refused.
    static func pipeline(_ client: WireClient, _ payloads: [[UInt8]], window: Int) async throws -> (stale: Int, refused: Int) {
        var sent = 0
        var received = 0
        var stale = 0
        var refused = 0
        while sent < min(window, payloads.count) {
            try await client.sendPayload(payloads[sent], flush: false)
            sent += 1
        }
        client.flush()
        while received < payloads.count {
            guard let reply = try await client.receive() else { throw WireClientError.closed }
            received += 1
            switch Answer(reply) {
            case .ack(_, .stale): stale += 1
            case .ack: break
            default: refused += 1
            }
            if sent < payloads.count {
                try await client.sendPayload(payloads[sent], flush: false)
                sent += 1
            }
            if !client.hasBufferedFrames { client.flush() }
        }
        return (stale, refused)
    }

    static func payload(id: String, type: String, body: JSONObject) -> [UInt8] {
        JSONWriter.bytes(Frame.feed(id: id, type: type, body: .object(body)))
    }

    static func institution(_ i: Int) -> String { "bkg-\(i)" }

    /// The alert key dudao-safety gives a pressed alarm (`alarm:<device>:<at ms>`, one alert per
    /// press; SafetyEvents.alarm), which both the stand-in and notify's file channel carry.
    static func alarmAlertKey(device: String, at: Int64) -> String { "alarm:\(device):\(at)" }
    static func device(_ d: Int) -> String { "alarm-\(String(10_000_000 + d).dropFirst())-gd" }

    func query(port: Int, _ type: String) async throws -> JSONValue {
        let client = try await WireClient.connect(host: host, port: port, tls: try TLSFiles(directory: certs, name: identity).makeClientContext())
        let answer: Result<JSONValue, any Error>
        do {
            answer = .success(try await client.query(type, id: "q"))
        } catch let refused as QueryRefused {
            answer = .failure(ValidationError(refused.description))
        } catch {
            answer = .failure(error)
        }
        await client.close()
        return try answer.get()
    }

    func safetyStatus() async throws -> JSONValue { try await query(port: safetyPort, "safety.status") }

    func ingestHead() async throws -> Int64 { try await query(port: ingestPort, "ingest.status")["head"]?.intValue ?? 0 }

    /// Polls safety's status every 200 ms until `condition` holds (true) or `seconds` pass (false).
    func waitFor(seconds: Double, _ condition: (JSONValue) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let status = try? await safetyStatus(), condition(status) { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}
