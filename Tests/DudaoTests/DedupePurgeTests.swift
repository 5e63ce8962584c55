import DudaoCore
import DudaoFeeds
import DudaoTesting
import Testing

@testable import dudao_ingest

/// The SQLite store purges (sender, id) pairs past the dedupe window by walking the table in key
/// order, a chunk per transaction (it has no index of their age): every old pair goes, every
/// pair within the window stays, across chunk boundaries.
@Suite struct DedupePurgeTests {
    @Test func oldPairsGoAndRecentOnesStayAcrossChunks() throws {
        let directory = try TestDirectory("dedupe-purge")
        defer { directory.remove() }
        let store = try SQLiteIngestStore(path: directory.file("ingest.sqlite"))
        var registry = Registry()
        _ = try store.commit(try CurrentVersionsTests.townAndKindergarten(), registry: &registry, now: .now())
        let day: Int64 = 86_400_000
        let now = Timestamp.now()
        // Ten heartbeats of ten devices, received one day apart going back from now.
        let requests = try (0..<10).map { n in
            let request = try CurrentVersionsTests.heartbeat("h\(n)", device: "d\(n)", at: "2025-09-01T08:00:00+08:00")
            return CommitRequest(
                sender: n % 2 == 0 ? "town-a" : "town-b", feedID: request.feedID, feed: request.feed, allowedTowns: nil,
                receivedAt: Timestamp(millis: now.millis - Int64(n) * day), dedupeWindowMillis: 30 * day)
        }
        #expect(try store.commit(requests, registry: &registry, now: now).allSatisfy { if case .accepted = $0 { true } else { false } })
        // Older than four and a half days: h5 to h9.
        #expect(try store.purgeDedupe(before: now.millis - 4 * day - day / 2, chunk: 3) == 5)
        #expect(try store.counts().dedupe == 2 + 5)
        let again = try store.commit(requests, registry: &registry, now: now)
        #expect(again[0..<5].allSatisfy { $0 == .duplicate }, "\(again)")
        // Purged pairs are no longer duplicates: the same readings are stale instead.
        #expect(again[5..<10].allSatisfy { $0 == .stale }, "\(again)")
    }
}
