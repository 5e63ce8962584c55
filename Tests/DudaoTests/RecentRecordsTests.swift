import DudaoCore
import DudaoFeeds
import DudaoTesting
import NIOCore
import Testing

@testable import dudao_ingest

/// The frames of the latest records, shared by the subscriptions at the head of the log: a run
/// is only ever consecutive numbers from where the subscription stands, so a record this
/// instance did not commit (another instance's, on PostgreSQL) or did not keep is read from
/// the store instead.
@Suite struct RecentRecordsTests {
    static func records(_ seqs: [Int64]) -> [RecentRecords.Record] {
        seqs.map { RecentRecords.Record(seq: $0, type: "safety.heartbeat", frame: ByteBuffer(string: "\($0)")) }
    }

    @Test func aRunIsConsecutiveFromWhereTheSubscriptionStands() {
        let recent = RecentRecords(capacity: 100)
        recent.append(Self.records(Array(10...20)))
        #expect(recent.run(from: 12, through: 20, limit: 100).map(\.seq) == Array(12...20))
        #expect(recent.run(from: 12, through: 15, limit: 100).map(\.seq) == Array(12...15), "never past the head the subscription knows")
        #expect(recent.run(from: 12, through: 20, limit: 3).map(\.seq) == [12, 13, 14])
        #expect(recent.run(from: 9, through: 20, limit: 100).isEmpty, "older than what is kept: the store")
        #expect(recent.run(from: 21, through: 21, limit: 100).isEmpty)
        #expect(recent.run(from: 10, through: 20, limit: 100).first?.frame == ByteBuffer(string: "10"))
    }

    @Test func aGapEndsTheRunAndARecordInTheGapIsNotHeld() {
        let recent = RecentRecords(capacity: 100)
        // 111...120 were committed by another instance.
        recent.append(Self.records(Array(100...110)))
        recent.append(Self.records(Array(121...130)))
        #expect(recent.run(from: 105, through: 130, limit: 100).map(\.seq) == Array(105...110))
        #expect(recent.run(from: 115, through: 130, limit: 100).isEmpty)
        #expect(recent.run(from: 111, through: 130, limit: 100).isEmpty)
        #expect(recent.run(from: 125, through: 130, limit: 100).map(\.seq) == Array(125...130))
    }

    @Test func theOldestGoBeyondTheCapacity() {
        let recent = RecentRecords(capacity: 5)
        recent.append(Self.records(Array(1...8)))
        #expect(recent.run(from: 3, through: 8, limit: 100).isEmpty)
        #expect(recent.run(from: 4, through: 8, limit: 100).map(\.seq) == Array(4...8))
    }

    @Test func theOldestGoBeyondTheByteBudget() {
        // Frames of 1 to 3 bytes ("1" … "100"), 6 bytes allowed: 99 and 100 fit, 98 would not.
        let recent = RecentRecords(capacity: 1000, byteBudget: 6)
        recent.append(Self.records(Array(1...100)))
        #expect(recent.run(from: 98, through: 100, limit: 100).isEmpty)
        #expect(recent.run(from: 99, through: 100, limit: 100).map(\.seq) == [99, 100])
        // One larger than the whole budget is still kept, alone.
        recent.append([RecentRecords.Record(seq: 101, type: "safety.heartbeat", frame: ByteBuffer(string: "abcdefgh"))])
        #expect(recent.run(from: 100, through: 101, limit: 100).isEmpty)
        #expect(recent.run(from: 101, through: 101, limit: 100).map(\.seq) == [101])
        recent.append(Self.records([102]))
        #expect(recent.run(from: 101, through: 102, limit: 100).isEmpty)
        #expect(recent.run(from: 102, through: 102, limit: 100).map(\.seq) == [102])
    }

    /// The frame of a record the writer stored is byte for byte the frame a read of the store gives, on
    /// both stores: a subscription gets the same bytes whichever way its records come.
    @Test(arguments: StoreBackend.allCases)
    func theWritersFrameIsTheStoresFrame(backend: StoreBackend) throws {
        let directory = try TestDirectory("recent-records")
        defer { directory.remove() }
        let store = try backend.open(try backend.freshPlace(in: directory))
        var registry = try store.loadRegistry()
        let now = Timestamp.now()
        let requests = try [
            IngestRetentionTests.request(.registryTown, "t", ["town_id": "t1", "name": "恩城街道 \"引号\" \\ 反斜杠", "kind": "town"], at: now),
            IngestRetentionTests.request(
                .registryInstitution, "i",
                ["institution_id": "k1", "name": "幼儿园", "town_id": "t1", "level": "kindergarten", "ownership": "public"], at: now),
            IngestRetentionTests.request(
                .safetyHeartbeat, "h",
                ["device_id": "d1", "institution_id": "k1", "device_kind": "alarm", "at": "2025-09-01T08:00:00+08:00", "status": "ok"],
                at: now),
        ]
        let outcomes = try store.commit(requests, registry: &registry, now: now)
        let stored = zip(outcomes, requests).compactMap { outcome, request -> GroupCommitter.Stored? in
            guard case .accepted(let seq) = outcome else { return nil }
            return GroupCommitter.Stored(seq: seq, request: request)
        }
        #expect(stored.count == 3)
        let fromStore = try store.readLog(after: 0, limit: 10).map(LogSubscription.frame(for:))
        #expect(stored.map { RecentRecords.Record($0).frame } == fromStore)
        // Kept as stored, built when a subscription is first handed them, the same bytes.
        let recent = RecentRecords()
        recent.append(stored)
        #expect(recent.run(from: 1, through: 3, limit: 10).map(\.frame) == fromStore)
        #expect(recent.run(from: 2, through: 3, limit: 10).map(\.frame) == Array(fromStore.dropFirst()), "kept built: the same again")
        // Their parts copied into slabs of other sizes: too small for one record (each gets a slab
        // of its own size), filled partway then left for a fresh one, or shared by all (above).
        // The frames are the same, and so are those of the same requests stored again.
        let again = stored.map { GroupCommitter.Stored(seq: $0.seq + 3, request: $0.request) }
        for slabSize in [16, 200, 400, 700, 1_000] {
            let slabs = RecentRecords(slabSize: slabSize)
            slabs.append(stored)
            slabs.append(again)
            let frames = slabs.run(from: 1, through: 6, limit: 10).map(\.frame)
            #expect(Array(frames.prefix(3)) == fromStore, "slabs of \(slabSize) bytes")
            #expect(Array(frames.dropFirst(3)) == again.map { RecentRecords.Record($0).frame }, "slabs of \(slabSize) bytes")
        }
    }
}
