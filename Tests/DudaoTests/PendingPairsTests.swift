import DudaoCore
import DudaoFeeds
import DudaoTesting
import DudaoWire
import Foundation
import GRDB
import Testing

@testable import dudao_ingest

/// The SQLite store writes a record's (sender, id) pair with the record in the log only, and
/// copies pairs into `dedupe` later, many at once: a pair still pending answers `duplicate` as a
/// copied one does, across a restart and a `kill -9`, and compaction copies before it deletes.
@Suite struct PendingPairsTests {
    /// Small limits: at most 16 wait; a light batch copies up to 4 once 4 wait.
    static let small = PendingPairs.Limits(limit: 16, lightMinimum: 4, chunk: 4)

    static func heartbeats(_ ids: Range<Int>, minute: Int = 0) throws -> [CommitRequest] {
        try ids.map { n in
            try CurrentVersionsTests.heartbeat("h\(n)-\(minute)", device: "d\(n)", at: String(format: "2025-09-01T08:%02d:00+08:00", minute))
        }
    }

    /// The pairs in the `dedupe` table and the mark.
    static func copied(_ path: String) throws -> (pairs: Int, through: Int64) {
        try DatabaseQueue(path: path).read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dedupe") ?? -1, try Int64.fetchOne(db, sql: "SELECT through FROM dedupe_mark") ?? -1)
        }
    }

    @Test func pendingAndCopiedPairsAnswerDuplicateAlsoAfterARestart() throws {
        let directory = try TestDirectory("pending-pairs")
        defer { directory.remove() }
        let path = directory.file("ingest.sqlite")
        var registry = Registry()
        let sent = try CurrentVersionsTests.townAndKindergarten() + Self.heartbeats(0..<10)
        do {
            let store = try SQLiteIngestStore(path: path, pendingLimits: Self.small)
            // One at a time: every batch is light.
            for request in sent { #expect(try store.commit([request], registry: &registry, now: .now()).first?.isAccepted == true) }
            // 12 records: 4 copied at the 5th commit (4 waited), 4 at the 9th; 4 pending.
            #expect(store.pending.count == 4)
            #expect(try Self.copied(path) == (8, 8))
            #expect(try store.counts().dedupe == 12)
            let again = try store.commit(sent, registry: &registry, now: .now())
            #expect(again.allSatisfy { $0 == .duplicate }, "\(again)")
        }
        // A new store on the file reads the pending pairs from the log.
        let reopened = try SQLiteIngestStore(path: path, pendingLimits: Self.small)
        #expect(reopened.pending.count == 4 && reopened.pending.through == 8)
        var fresh = try reopened.loadRegistry()
        let again = try reopened.commit(sent, registry: &fresh, now: .now())
        #expect(again.allSatisfy { $0 == .duplicate }, "\(again)")
    }

    @Test func aBusyWriterKeepsNoMoreThanTheLimitPending() throws {
        let directory = try TestDirectory("pending-pairs-limit")
        defer { directory.remove() }
        let path = directory.file("ingest.sqlite")
        let store = try SQLiteIngestStore(path: path, pendingLimits: Self.small)
        var registry = Registry()
        _ = try store.commit(try CurrentVersionsTests.townAndKindergarten(), registry: &registry, now: .now())
        var total = 2
        var sent: [CommitRequest] = []
        // Batches of 8 (not light): nothing is copied until more than 16 wait.
        for minute in 0..<5 {
            let batch = try Self.heartbeats(0..<8, minute: minute)
            #expect(try store.commit(batch, registry: &registry, now: .now()).allSatisfy(\.isAccepted))
            sent += batch
            total += 8
            #expect(store.pending.count == min(total, 16))
            #expect(try Self.copied(path).pairs == total - store.pending.count)
        }
        let again = try store.commit(sent, registry: &registry, now: .now())
        #expect(again.allSatisfy { $0 == .duplicate }, "\(again)")
    }

    @Test func compactionCopiesPendingPairsBeforeItDeletesTheirRecords() throws {
        let directory = try TestDirectory("pending-pairs-compaction")
        defer { directory.remove() }
        let path = directory.file("ingest.sqlite")
        let store = try SQLiteIngestStore(path: path)
        var registry = Registry()
        _ = try store.commit(try CurrentVersionsTests.townAndKindergarten(), registry: &registry, now: .now())
        // Three readings of one device: the first two are superseded.
        let readings = try (0..<3).flatMap { try Self.heartbeats(0..<1, minute: $0) }
        for reading in readings { #expect(try store.commit([reading], registry: &registry, now: .now()).first?.isAccepted == true) }
        #expect(store.pending.count == 5)
        let policy = RetentionPolicy(dedupeWindowMillis: 7 * 86_400_000, eventRetentionMillis: 90 * 86_400_000, consumers: [])
        #expect(try store.compact(policy: policy, now: .now()).supersededRemoved == 2)
        #expect(store.pending.count == 0)
        #expect(try Self.copied(path) == (5, 5))
        // The superseded readings' records are gone, their pairs are not: duplicate, not stale.
        let again = try store.commit(readings, registry: &registry, now: .now())
        #expect(again.allSatisfy { $0 == .duplicate }, "\(again)")
    }

    /// A request for heartbeat `id` of device d1 at 08:`minute`, received at `millis`, with a
    /// dedupe window of `window` ms.
    static func reading(_ id: String, minute: Int, receivedAt millis: Int64, window: Int64) throws -> CommitRequest {
        let request = try Self.heartbeats(1..<2, minute: minute)[0]
        return CommitRequest(
            sender: "test", feedID: id, feed: request.feed, allowedTowns: nil, receivedAt: Timestamp(millis: millis), dedupeWindowMillis: window)
    }

    @Test func aPairStoredAgainIsADuplicateOfItsLatestStore() throws {
        let directory = try TestDirectory("pending-pairs-again")
        defer { directory.remove() }
        let store = try SQLiteIngestStore(path: directory.file("ingest.sqlite"))
        var registry = Registry()
        _ = try store.commit(try CurrentVersionsTests.townAndKindergarten(), registry: &registry, now: .now())
        let day: Int64 = 86_400_000
        let now = Timestamp.now().millis
        // "h" received two days ago with a window of one day, its pair copied into `dedupe`
        // (past its window, not yet purged); then "h" again, a later reading, received now.
        let old = try Self.reading("h", minute: 0, receivedAt: now - 2 * day, window: day)
        #expect(try store.commit([old], registry: &registry, now: Timestamp(millis: now)).first?.isAccepted == true)
        try store.copyPendingPairs()
        let again = try Self.reading("h", minute: 5, receivedAt: now, window: day)
        #expect(try store.commit([again], registry: &registry, now: Timestamp(millis: now)).first?.isAccepted == true)
        // `dedupe` says two days ago, the pending pair says now: the latest counts.
        #expect(try store.commit([again], registry: &registry, now: Timestamp(millis: now + 1)) == [.duplicate])

        // A sender re-using one id with a window of 1 ms: one entry per pair, not a list.
        let hash = SeenFeeds.hash(sender: "test", id: "r")
        for minute in 10..<14 {
            let reading = try Self.reading("r", minute: minute, receivedAt: now + Int64(minute) * 10, window: 1)
            #expect(try store.commit([reading], registry: &registry, now: Timestamp(millis: now + Int64(minute) * 10)).first?.isAccepted == true)
        }
        #expect(store.pending.seqs(hash: hash).count == 1)
        let last = try Self.reading("r", minute: 13, receivedAt: now + 130, window: 1)
        #expect(try store.commit([last], registry: &registry, now: Timestamp(millis: now + 130)) == [.duplicate])
    }

    @Test func aPendingPairIsComparedNotOnlyItsHash() throws {
        let directory = try TestDirectory("pending-pairs-compare")
        defer { directory.remove() }
        let store = try SQLiteIngestStore(path: directory.file("ingest.sqlite"))
        var registry = Registry()
        _ = try store.commit(try CurrentVersionsTests.townAndKindergarten() + Self.heartbeats(1..<2), registry: &registry, now: .now())
        // Another pair made to look as if it had record 3 (h1's): the filter and the pending
        // pairs both say "perhaps".
        let other = try Self.heartbeats(2..<3)[0]
        let hash = SeenFeeds.hash(sender: other.sender, id: other.feedID)
        store.seen.insert(hash, at: Timestamp.now().millis)
        store.pending.append(hash: hash, seq: 3)
        #expect(try store.commit([other], registry: &registry, now: .now()).first?.isAccepted == true)
    }

    @Test func compactionCopyingWhileTheWriterCommitsLosesNoPair() async throws {
        let directory = try TestDirectory("pending-pairs-concurrent")
        defer { directory.remove() }
        let path = directory.file("ingest.sqlite")
        let store = try SQLiteIngestStore(path: path, pendingLimits: Self.small)
        var registry = Registry()
        _ = try store.commit(try CurrentVersionsTests.townAndKindergarten(), registry: &registry, now: .now())
        let policy = RetentionPolicy(dedupeWindowMillis: 7 * 86_400_000, eventRetentionMillis: 90 * 86_400_000, consumers: [])
        let compactor = Task.detached {
            for _ in 0..<100 { _ = try store.compact(policy: policy, now: .now()) }
        }
        // Single heartbeats (light) and batches of 8 (busy), distinct devices: nothing superseded.
        var sent: [CommitRequest] = []
        for round in 0..<30 {
            let single = try Self.heartbeats((round * 9)..<(round * 9 + 1))
            let batch = try Self.heartbeats((round * 9 + 1)..<(round * 9 + 9))
            for group in [single, batch] {
                #expect(try store.commit(group, registry: &registry, now: .now()).allSatisfy(\.isAccepted))
                sent += group
            }
        }
        try await compactor.value
        let (pairs, through) = try Self.copied(path)
        #expect(through >= store.pending.through)
        #expect(pairs + store.pending.count == 2 + sent.count)
        let again = try store.commit(sent, registry: &registry, now: .now())
        #expect(again.allSatisfy { $0 == .duplicate }, "\(again.filter { $0 != .duplicate }.count) not duplicate")
    }

    /// A graceful stop of the real ingest copies every pending pair (an earlier build then reads
    /// a complete `dedupe`).
    @Test func aGracefulStopLeavesNoPairPending() async throws {
        let ingest = try IngestFixture(settings: #""retention": {"compact_interval_seconds": 86400}"#)
        defer { ingest.stop() }
        try await ingest.registerSampleKindergarten()
        let client = try await ingest.connect()
        for n in 0..<5 {
            #expect(try await client.request(Frames.feed("g-\(n)", "safety.heartbeat", SampleFeeds.heartbeat(device: "g-\(n)")))["status"] == "accepted")
        }
        await client.close()
        #expect(try Self.copied(ingest.databasePath) == (0, 0))
        #expect(try ingest.terminateAndRestart() == 0)
        #expect(try Self.copied(ingest.databasePath) == (7, 7))
    }

    @Test func pairsSharingAHashAreKeptApart() {
        let pending = PendingPairs(through: 0)
        pending.append(hash: 7, seq: 1)
        pending.append(hash: 7, seq: 2)
        pending.append(hash: 9, seq: 3)
        #expect(pending.seqs(hash: 7) == [1, 2] && pending.seqs(hash: 9) == [3] && pending.seqs(hash: 8).isEmpty)
        pending.copied(through: 1)
        #expect(pending.seqs(hash: 7) == [2] && pending.through == 1 && pending.count == 2)
        pending.copied(through: 3)
        #expect(pending.seqs(hash: 7).isEmpty && pending.seqs(hash: 9).isEmpty && pending.count == 0)
    }

    /// The real ingest, fed one heartbeat at a time (light batches: 1 024 pairs are copied once
    /// that many wait, the rest stay pending), killed with SIGKILL and started again: every feed
    /// sent again is a duplicate, whether its pair was copied or still in the log only.
    @Test func everyPairSurvivesAKillOfTheIngest() async throws {
        // No compaction meanwhile: it would copy every pending pair first.
        let ingest = try IngestFixture(settings: #""retention": {"compact_interval_seconds": 86400}"#)
        defer { ingest.stop() }
        let client = try await ingest.connect()
        _ = try await client.request(Frames.feed("t", "registry.town", SampleFeeds.town))
        _ = try await client.request(Frames.feed("k", "registry.institution", SampleFeeds.kindergarten))
        let total = 1100
        func heartbeat(_ n: Int) -> JSONValue {
            Frames.feed("p-\(n)", "safety.heartbeat", SampleFeeds.heartbeat(device: "d-\(n)"))
        }
        for n in 0..<total { #expect(try await client.request(heartbeat(n))["status"] == "accepted") }
        await client.close()
        #expect(try Self.copied(ingest.databasePath) == (1024, 1024))
        try ingest.killAndRestart()
        let again = try await ingest.connect()
        var answers: [String: Int] = [:]
        for n in 0..<total { answers[try await again.request(heartbeat(n))["status"]?.stringValue ?? "none", default: 0] += 1 }
        #expect(answers == ["duplicate": total])
        await again.close()
    }
}

extension CommitOutcome {
    var isAccepted: Bool { if case .accepted = self { true } else { false } }
}
