import DudaoCore
import DudaoFeeds
import DudaoStorage
import DudaoTesting
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

@testable import dudao_ingest

/// Several ingest instances on one PostgreSQL database: the log a consumer follows has no holes
/// (a record committed later never carries a lower number than one already read), and dedupe
/// holds across instances. Real stores (each with its own connections, as two processes would
/// have) writing at once from several threads, and a reader following the log meanwhile.
@Suite struct PostgresLogOrderTests {
    static func heartbeat(_ sender: String, _ id: String, device: String) throws -> CommitRequest {
        let body = SampleFeeds.heartbeat(device: device).objectValue!
        return CommitRequest(
            sender: sender, feedID: id, feed: try FeedValidator.validate(.safetyHeartbeat, body: body).get(), allowedTowns: nil,
            receivedAt: .now(), dedupeWindowMillis: 86_400_000)
    }

    static func open(_ url: String) throws -> PostgresIngestStore {
        try PostgresIngestStore(location: PostgresLocation(url: url), readers: 1, logger: Logger(label: "test"))
    }

    static func register(_ store: PostgresIngestStore) throws -> Registry {
        var registry = try store.loadRegistry()
        let town = try FeedValidator.validate(.registryTown, body: SampleFeeds.town.objectValue!).get()
        let kindergarten = try FeedValidator.validate(.registryInstitution, body: SampleFeeds.kindergarten.objectValue!).get()
        let requests = [town, kindergarten].enumerated().map { index, feed in
            CommitRequest(sender: "setup", feedID: "r\(index)", feed: feed, allowedTowns: nil, receivedAt: .now(), dedupeWindowMillis: 86_400_000)
        }
        _ = try store.commit(requests, registry: &registry, now: .now())
        return registry
    }

    @Test func concurrentWritersLeaveNoHoleAReaderCouldSkip() async throws {
        let url = try PostgresServer.shared.freshDatabase("order")
        let first = try Self.open(url)
        let second = try Self.open(url)
        let reader = try Self.open(url)
        _ = try Self.register(first)
        let writers = 4
        let perWriter = 1500
        let done = NIOLockedValueBox(0)
        // The reader follows the log as a subscription does: from its position, in order. On a
        // thread of its own, like the writers: a loop of blocking reads on a task held one of the
        // two cooperative threads, and with another suite's task on the other the writers' tasks
        // never started (a CI run hung here, the follower reading an empty log for ten minutes).
        let follower = Task {
            await withCheckedContinuation { (resume: CheckedContinuation<Result<(seen: [Int64], ids: [String]), any Error>, Never>) in
                Thread {
                    var position: Int64 = 0
                    var seen: [Int64] = []
                    var ids: [String] = []
                    do {
                        while true {
                            let finished = done.withLockedValue { $0 } == writers
                            let entries = try reader.readLog(after: position, limit: 300)
                            for entry in entries {
                                seen.append(entry.seq)
                                ids.append(entry.sender + "/" + entry.feedID)
                                position = entry.seq
                            }
                            if entries.isEmpty {
                                if finished { break }
                                Thread.sleep(forTimeInterval: 0.001)
                            }
                        }
                        resume.resume(returning: .success((seen, ids)))
                    } catch {
                        resume.resume(returning: .failure(error))
                    }
                }.start()
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    let store = writer % 2 == 0 ? first : second
                    // Each writer its own thread: the two stores' transactions really overlap.
                    await withCheckedContinuation { (resume: CheckedContinuation<Void, Never>) in
                        let thread = Thread {
                            do {
                                var registry = try store.loadRegistry()
                                var sent = 0
                                var size = 1
                                while sent < perWriter {
                                    let count = min(size, perWriter - sent)
                                    let batch = try (sent..<(sent + count)).map {
                                        try Self.heartbeat("w\(writer)", "\($0)", device: "d-\(writer)-\($0)")
                                    }
                                    let outcomes = try store.commit(batch, registry: &registry, now: .now())
                                    #expect(outcomes.allSatisfy { if case .accepted = $0 { true } else { false } })
                                    sent += count
                                    size = size % 97 + 13
                                }
                            } catch {
                                Issue.record("writer \(writer): \(error)")
                            }
                            done.withLockedValue { $0 += 1 }
                            resume.resume()
                        }
                        thread.start()
                    }
                }
            }
        }
        let (seen, ids) = try await follower.value.get()
        let total = writers * perWriter + 2
        #expect(seen == Array(1...Int64(total)), "the follower read every number once, in order (\(seen.count) of \(total))")
        #expect(Set(ids).count == total, "every feed once")
        #expect(try reader.head() == Int64(total))
        for store in [first, second, reader] { store.close() }
    }

    @Test func theSameFeedAtTwoInstancesAtOnceIsAcceptedOnce() async throws {
        let url = try PostgresServer.shared.freshDatabase("dedupe")
        let stores = [try Self.open(url), try Self.open(url)]
        _ = try Self.register(stores[0])
        let ids = 400
        let outcomes = NIOLockedValueBox([String: [CommitOutcome]]())
        await withTaskGroup(of: Void.self) { group in
            for store in stores {
                group.addTask {
                    await withCheckedContinuation { (resume: CheckedContinuation<Void, Never>) in
                        Thread {
                            do {
                                var registry = try store.loadRegistry()
                                // Both instances send every id, in batches of 7, at the same time.
                                for start in stride(from: 0, to: ids, by: 7) {
                                    let batch = try (start..<min(ids, start + 7)).map {
                                        try Self.heartbeat("town-office", "feed-\($0)", device: "dev-\($0)")
                                    }
                                    let answers = try store.commit(batch, registry: &registry, now: .now())
                                    outcomes.withLockedValue { all in
                                        for (request, answer) in zip(batch, answers) { all[request.feedID, default: []].append(answer) }
                                    }
                                }
                            } catch {
                                Issue.record("\(error)")
                            }
                            resume.resume()
                        }.start()
                    }
                }
            }
        }
        let all = outcomes.withLockedValue { $0 }
        #expect(all.count == ids)
        for (id, answers) in all {
            let accepted = answers.filter { if case .accepted = $0 { true } else { false } }.count
            #expect(accepted == 1 && answers.count == 2 && answers.contains(.duplicate), "\(id): \(answers)")
        }
        #expect(try stores[0].readLog(after: 0, limit: 10_000).count == ids + 2)
        for store in stores { store.close() }
    }

    @Test func anotherInstancesRegistrationIsSeenAtTheNextBatch() throws {
        let url = try PostgresServer.shared.freshDatabase("registry")
        let first = try Self.open(url)
        let second = try Self.open(url)
        var secondRegistry = try second.loadRegistry()
        // Registered through the first instance only.
        _ = try Self.register(first)
        let outcome = try second.commit([try Self.heartbeat("s", "hb", device: "dev-1")], registry: &secondRegistry, now: .now())
        #expect(outcome == [.accepted(seq: 3)])
        #expect(secondRegistry.institutions["kg-dongcheng-01"] != nil)
        for store in [first, second] { store.close() }
    }

    @Test func connectsWithVerifiedTLSAndSynchronousCommit() throws {
        let server = try PostgresServer.shared
        let name = databaseName(of: try server.freshDatabase("tls"))
        let location = try PostgresLocation(url: server.url(name, extra: "sslmode=verify-full&sslrootcert=\(server.certificateAuthority)"))
        let database = BlockingPostgres(location: location, schema: "public", applicationName: "test", logger: Logger(label: "test"))
        let (ssl, synchronous) = try database.withSession { session in
            let ssl = try session.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").single(Bool.self)
            let synchronous = try session.query("SHOW synchronous_commit").single(String.self)
            return (ssl, synchronous)
        }
        #expect(ssl == true)
        #expect(synchronous == "on")
        database.close()
        // A CA that did not sign the server's certificate: refused.
        let directory = try TestDirectory("pg-tls")
        defer { directory.remove() }
        _ = try TestPKI(in: directory)
        let wrong = try PostgresLocation(url: server.url(name, extra: "sslmode=verify-full&sslrootcert=\(directory.file("certs/ca.pem"))"))
        let refused = BlockingPostgres(location: wrong, schema: "public", applicationName: "test", logger: Logger(label: "test"))
        #expect(throws: (any Error).self) { try refused.withSession { try $0.query("SELECT 1") } }
    }

    @Test func badURLsAreRefusedInWords() {
        #expect(throws: StorageConfigError.self) { try PostgresLocation(url: "postgres://u@h/db?sslmode=sometimes") }
        #expect(throws: StorageConfigError.self) { try PostgresLocation(url: "postgres://u@h/db?sslmode=verify-full") }
        #expect(throws: StorageConfigError.self) { try PostgresLocation(url: "postgres://u@h/db?connect_timeout=3") }
        let location = try? PostgresLocation(url: "postgres://dudao:s3cret@db.example:6432/province?sslmode=require")
        #expect(location?.description == "postgres://dudao@db.example:6432/province (TLS require)")
    }
}
