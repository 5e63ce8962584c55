import DudaoCore
import DudaoFeeds
import DudaoTesting
import Testing

@testable import dudao_ingest

/// The event loop answers `stale` only from what the SQLite store has committed: a version of a
/// transaction still under way does not count, a stored (sender, id) goes to the writer, and so
/// does a tie (the writer compares bodies).
@Suite struct FastAdmissionTests {
    @Test func onlyDurableVersionsAndUnseenIdsAreAnsweredEarly() throws {
        let directory = try TestDirectory("fast-admission")
        defer { directory.remove() }
        let store = try SQLiteIngestStore(path: directory.file("ingest.sqlite"))
        var registry = Registry()
        let outcomes = try store.commit(
            try CurrentVersionsTests.townAndKindergarten() + [try CurrentVersionsTests.heartbeat("h1", device: "d1", at: "2025-09-01T08:10:00+08:00")],
            registry: &registry, now: .now())
        #expect(outcomes == [.accepted(seq: 1), .accepted(seq: 2), .accepted(seq: 3)])
        let committed = registry
        let fast = FastAdmission(versions: store.versions, seen: store.seen, registry: { committed })
        func isStale(_ id: String, at: String, sender: String = "test", towns: Set<String>? = nil) throws -> Bool {
            let request = try CurrentVersionsTests.heartbeat(id, device: "d1", at: at)
            return fast.isStale(
                sender: sender, id: id, feed: request.feed, key: request.currentKey, asOfMillis: request.asOfMillis, allowedTowns: towns)
        }
        #expect(try isStale("h2", at: "2025-09-01T08:05:00+08:00"))
        // Stored already: the writer answers duplicate.
        #expect(try !isStale("h1", at: "2025-09-01T08:05:00+08:00"))
        // The same id from another sender is another feed.
        #expect(try isStale("h1", at: "2025-09-01T08:05:00+08:00", sender: "other"))
        // A tie, a newer reading, a sender restricted to another town: the writer decides.
        #expect(try !isStale("h3", at: "2025-09-01T08:10:00+08:00"))
        #expect(try !isStale("h4", at: "2025-09-01T08:20:00+08:00"))
        #expect(try !isStale("h5", at: "2025-09-01T08:05:00+08:00", towns: ["t2"]))
        #expect(try isStale("h6", at: "2025-09-01T08:05:00+08:00", towns: ["t1"]))
        // A version written by a transaction not yet committed does not count.
        let d1 = try CurrentVersionsTests.heartbeat("x", device: "d1", at: "2025-09-01T08:10:00+08:00").feed
        let key = CurrentVersions.Key(type: d1.type.rawValue, key: d1.key)
        store.versions.set(key, CurrentVersions.Version(asOf: Int64.max, seq: 4))
        #expect(try !isStale("h7", at: "2025-09-01T08:05:00+08:00"))
        store.versions.markDurable(through: 4)
        #expect(try isStale("h7", at: "2025-09-01T08:05:00+08:00"))
        // A failed transaction empties the cache: the writer decides again.
        store.versions.invalidate()
        #expect(try !isStale("h8", at: "2025-09-01T08:05:00+08:00"))
    }
}
