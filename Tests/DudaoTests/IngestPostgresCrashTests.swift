import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Testing

/// Two real `dudao-ingest` processes on one real PostgreSQL server, load on both; one instance
/// is killed with `kill -9` mid-stream, then PostgreSQL crash-restarts under the survivor's load
/// (every server process but the postmaster killed with `kill -9`). Every acknowledged feed is
/// stored exactly once, and a subscriber that follows the log throughout
/// (reconnecting to whichever instance answers) receives every record once, in order.
@Suite(.serialized) struct IngestPostgresCrashTests {
    static func heartbeat(_ n: Int) -> JSONValue {
        Frames.feed("pg-\(n)", "safety.heartbeat", SampleFeeds.heartbeat(device: "dev-\(n)"))
    }

    /// Sends feeds `numbers` to the instance on `port`, pipelined (window 64); records the ids
    /// answered `accepted` or `duplicate` before the connection died.
    static func pump(_ ingest: IngestFixture, port: Int, _ numbers: [Int], acked: NIOLockedValueBox<Set<String>>) async {
        guard let client = try? await ingest.connect(port: port) else { return }
        var next = 0
        var pending: [String] = []
        do {
            while next < numbers.count || !pending.isEmpty {
                while next < numbers.count, pending.count < 64 {
                    try await client.send(heartbeat(numbers[next]), flush: false)
                    pending.append("pg-\(numbers[next])")
                    next += 1
                }
                client.flush()
                guard let reply = try await client.receive() else { break }
                let id = pending.removeFirst()
                if reply["status"] == "accepted" || reply["status"] == "duplicate" { acked.withLockedValue { _ = $0.insert(id) } }
            }
        } catch {}
        await client.close()
    }

    /// Follows the log as a consumer does: from its last record + 1, through any instance that
    /// answers, until `stop` is set and it has reached the head.
    final class Follower: Sendable {
        let records = NIOLockedValueBox<[(seq: Int64, id: String)]>([])
        let stop = NIOLockedValueBox(false)

        func run(_ ingest: IngestFixture, ports: @escaping @Sendable () -> [Int]) async {
            var turn = 0
            while true {
                let port = ports()[turn % ports().count]
                turn += 1
                let from = (records.withLockedValue { $0.last?.seq } ?? 0) + 1
                guard let client = try? await ingest.connect(as: "dudao-indicators", port: port) else {
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                do {
                    try await client.send(Frame.subscribe(Frame.Subscription(from: from, credit: 1_000_000, types: [], keepaliveSeconds: 1)))
                    guard let first = try await client.receive(), first["kind"] == "result" else { throw WireClientError.closed }
                    while let frame = try await client.receive() {
                        if frame["kind"] == "record", let seq = frame["body"]?["seq"]?.intValue, let id = frame["body"]?["feed_id"]?.stringValue {
                            records.withLockedValue { $0.append((Int64(seq), id)) }
                        } else if frame["kind"] == "keepalive", stop.withLockedValue({ $0 }) {
                            let status = try? await ingest.connect(port: port)
                            let head = try await status?.request(Frame.query("ingest.status", id: "s"))["body"]?["head"]?.intValue ?? -1
                            await status?.close()
                            if Int64(head) == records.withLockedValue({ $0.last?.seq }) {
                                await client.close()
                                return
                            }
                        }
                    }
                } catch {}
                await client.close()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @Test func killNineOfAnInstanceAndACrashOfPostgresLoseNothingAndDuplicateNothing() async throws {
        let server = try PostgresServer.startPrivate(label: "dudao-pg-crash")
        defer { server.remove() }
        let url = try server.freshDatabase("crash")
        let ingest = try IngestFixture(environment: ["DUDAO_INGEST_DATABASE": url])
        defer { ingest.stop() }
        let second = try ingest.launchInstance(label: "second")
        defer { second.stop() }
        try await ingest.registerSampleKindergarten()

        let ports = NIOLockedValueBox([ingest.port, second.port])
        let follower = Follower()
        let following = Task { await follower.run(ingest, ports: { ports.withLockedValue { $0 } }) }

        let total = 6000
        let acked = NIOLockedValueBox(Set<String>())
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<4 {
                let range = (c * total / 4)..<((c + 1) * total / 4)
                let port = c % 2 == 0 ? ingest.port : second.port
                group.addTask { await Self.pump(ingest, port: port, Array(range), acked: acked) }
            }
            group.addTask {
                while acked.withLockedValue({ $0.count }) < total / 4 { try? await Task.sleep(for: .milliseconds(5)) }
                // The first instance dies mid-stream; then the database server crashes under the
                // second's load. (Waited for on NIO's thread pool: a cooperative thread blocked in
                // waitpid would stall the pumps.)
                ingest.process.kill9()
                while acked.withLockedValue({ $0.count }) < total * 3 / 8 { try? await Task.sleep(for: .milliseconds(5)) }
                await #expect(throws: Never.self) { try await NIOThreadPool.singleton.runIfActive { try server.crashRestart() } }
            }
        }
        try ingest.killAndRestart()
        ports.withLockedValue { $0 = [ingest.port, second.port] }
        let ackedBeforeCrash = acked.withLockedValue { $0 }
        #expect(ackedBeforeCrash.count >= total / 4)
        #expect(ackedBeforeCrash.count < total, "the crash came too late to test anything")

        // Everything not acknowledged is sent again, half to each instance: accepted, or
        // duplicate when it had been stored but its ack was lost.
        for _ in 0..<20 {
            let missing = (0..<total).filter { n in !acked.withLockedValue { $0.contains("pg-\(n)") } }
            if missing.isEmpty { break }
            await withTaskGroup(of: Void.self) { group in
                for (half, port) in [ingest.port, second.port].enumerated() {
                    let share = missing.enumerated().filter { $0.offset % 2 == half }.map(\.element)
                    group.addTask { await Self.pump(ingest, port: port, share, acked: acked) }
                }
            }
        }
        #expect(acked.withLockedValue { $0.count } == total, "every feed acknowledged in the end")
        follower.stop.withLockedValue { $0 = true }
        await following.value

        // The consumer's view: every number from 1 to the head once, in order; every feed once.
        let records = follower.records.withLockedValue { $0 }
        #expect(records.map(\.seq) == Array(1...Int64(records.count)), "no hole and no repeat in what the subscriber received")
        var count: [String: Int] = [:]
        for record in records { count[record.id, default: 0] += 1 }
        for n in 0..<total { #expect(count["pg-\(n)"] == 1, "pg-\(n) received \(count["pg-\(n)"] ?? 0) times") }
        #expect(records.count == total + 2)
        for id in ackedBeforeCrash { #expect(count[id] == 1, "\(id) acknowledged before the crash but not stored once") }
    }
}
