import DudaoCore
import DudaoFeeds
import DudaoTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import dudao_ingest

/// Regression, found by the chaos soak: a record committed while the subscription was reading
/// the store was skipped when that read came back short (the stream then jumped to the head).
@Suite struct LogSubscriptionRaceTests {
    /// The real SQLite store, with one twist: during a read, another writer commits a record
    /// and publishes it — the moment the race needs.
    final class CommitDuringReadStore: IngestStore {
        let real: SQLiteIngestStore
        let onRead: @Sendable () -> Void
        init(real: SQLiteIngestStore, onRead: @escaping @Sendable () -> Void) {
            self.real = real
            self.onRead = onRead
        }
        func loadRegistry() throws -> Registry { try real.loadRegistry() }
        func commit(_ batch: [CommitRequest], registry: inout Registry, now: Timestamp) throws -> [CommitOutcome] {
            try real.commit(batch, registry: &registry, now: now)
        }
        func readLog(after: Int64, limit: Int) throws -> [LogEntry] {
            let entries = try real.readLog(after: after, limit: limit)
            onRead()
            return entries
        }
        func head() throws -> Int64 { try real.head() }
        func setConsumerPosition(name: String, position: Int64, now: Timestamp) throws {}
        func consumerPositions() throws -> [String: Int64] { [:] }
        func divergence(name: String) throws -> Int64? { nil }
        func setDivergence(name: String, logHead: Int64, position: Int64, now: Timestamp) throws {}
        func clearDivergence(name: String) throws {}
        func compact(policy: RetentionPolicy, now: Timestamp) throws -> CompactionReport { CompactionReport() }
        func counts() throws -> (log: Int, keys: Int, dedupe: Int) { try real.counts() }
    }

    static func request(_ n: Int) -> CommitRequest {
        let body: JSONObject = ["town_id": .string("t\(n)"), "name": "镇", "kind": "town"]
        guard case .success(let feed) = FeedValidator.validate(type: "registry.town", body: body) else { fatalError() }
        return CommitRequest(
            sender: "test", feedID: "f\(n)", feed: feed, allowedTowns: nil, receivedAt: .now(), dedupeWindowMillis: 86_400_000)
    }

    @Test func recordsCommittedDuringAReadAreStillSent() async throws {
        let root = try TestDirectory("race")
        defer { root.remove() }
        let real = try SQLiteIngestStore(path: root.file("ingest.sqlite"))
        var registry = Registry()
        _ = try real.commit([Self.request(1)], registry: &registry, now: .now())
        let hub = LogHub(head: 1)
        // The first read commits record 2 and publishes it before returning.
        let once = NIOLockedValueBox(false)
        let store = CommitDuringReadStore(real: real) {
            guard !once.withLockedValue({ let was = $0; $0 = true; return was }) else { return }
            var registry = Registry()
            _ = try? real.commit([Self.request(2)], registry: &registry, now: .now())
            hub.published(upTo: 2)
        }
        // A testing channel whose loop really is another thread (an EmbeddedChannel's loop claims
        // every thread, which completes the read before the head can move).
        let channel = NIOAsyncTestingChannel()
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()

        let loop = channel.eventLoop
        let subscription = try await loop.submit { () -> NIOLoopBound<LogSubscription> in
            let subscription = LogSubscription(
                from: 1, credit: 100, types: [], store: store, hub: hub, recent: RecentRecords(), channel: channel, threadPool: threadPool,
                logger: Logger(label: "test"))
            subscription.start()
            return NIOLoopBound(subscription, eventLoop: loop)
        }.get()
        var seqs: [Int64] = []
        for _ in 0..<100 where seqs.count < 2 {
            while let frame = try await channel.readOutbound(as: ByteBuffer.self) {
                let value = try JSONParser.parse(Array(frame.readableBytesView))
                seqs.append(value["body"]?["seq"]?.intValue ?? -1)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(seqs == [1, 2])
        try await loop.submit { subscription.value.close() }.get()
        try await threadPool.shutdownGracefully()
    }
}
