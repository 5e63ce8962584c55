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

/// While the ingest's writer is busy, news of new records waits for subscribers (at most
/// `delivery.hold_ms`); an urgent record, the end of the busy spell or the limit lets it out.
@Suite struct DeliveryHoldTests {
    /// What one listener was told, in order.
    final class Told: Sendable {
        private let heads = NIOLockedValueBox<[Int64]>([])
        func record(_ head: Int64) { heads.withLockedValue { $0.append(head) } }
        var all: [Int64] { heads.withLockedValue { $0 } }
        var last: Int64? { all.last }
    }

    /// A hub with one listener; `timers`: where its checks of held news run (a loop that is
    /// never advanced: no timer fires, only batches decide).
    static func hub(
        limit: Duration = .seconds(60), quiet: Duration = .seconds(60), timers: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    ) -> (LogHub, Told) {
        let hub = LogHub(head: 0, hold: DeliveryHold(limit: limit, urgentTypes: ["safety.alarm"], quiet: quiet), timers: timers)
        let told = Told()
        _ = hub.add { told.record($0) }
        return (hub, told)
    }

    static func eventually(within seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    @Test func newsWaitsWhileTheWriterIsBusyAndGoesOutOnceItIsNot() async throws {
        let (hub, told) = Self.hub(quiet: .seconds(2))
        hub.published(upTo: 1)
        #expect(told.all == [1], "not busy: at once")
        hub.published(upTo: 5, busy: true)
        hub.published(upTo: 9, busy: true)
        hub.published(upTo: 12)
        #expect(told.all == [1], "busy within the quiet period: held")
        #expect(hub.head == 12, "the head itself is not held (status, metrics)")
        // A subscription starting now starts from what the others were told.
        #expect(hub.add { _ in }.head == 1)
        // No batch comes: the timer lets it out once the writer has not been busy for `quiet`.
        #expect(try await Self.eventually(within: 20) { told.last == 12 })
        #expect(told.all == [1, 12])
    }

    @Test func anUrgentRecordLetsEverythingBeforeItOutAtOnce() {
        let (hub, told) = Self.hub()
        hub.published(upTo: 100, busy: true)
        hub.published(upTo: 200, busy: true)
        #expect(told.all.isEmpty)
        hub.published(upTo: 201, busy: true, urgent: true)
        #expect(told.all == [201])
        hub.published(upTo: 300, busy: true)
        #expect(told.all == [201], "held again after it")
    }

    @Test func newsIsNeverHeldBeyondTheLimit() async throws {
        // Busy all along, no timer firing: held until the first batch after the limit.
        let stopped = NIOAsyncTestingEventLoop()
        let (hub, told) = Self.hub(limit: .milliseconds(200), timers: stopped)
        hub.published(upTo: 1, busy: true)
        hub.published(upTo: 2, busy: true)
        #expect(told.all.isEmpty)
        try await Task.sleep(for: .milliseconds(250))
        hub.published(upTo: 3, busy: true)
        #expect(told.all == [3])
        // With no batch after it, the timer lets it out at the limit.
        let (quietHub, quietTold) = Self.hub(limit: .milliseconds(200))
        quietHub.published(upTo: 5, busy: true)
        #expect(quietTold.all.isEmpty)
        #expect(try await Self.eventually(within: 20) { quietTold.last == 5 })
        await stopped.shutdownGracefully()
    }

    /// No more than `records` records' news is held: an alarm waits at its consumer behind no
    /// more than that many.
    @Test func noMoreThanSoManyRecordsAreHeld() {
        let hub = LogHub(head: 0, hold: DeliveryHold(limit: .seconds(60), urgentTypes: [], quiet: .seconds(60), records: 10))
        let told = Told()
        _ = hub.add { told.record($0) }
        hub.published(upTo: 9, busy: true)
        #expect(told.all.isEmpty)
        hub.published(upTo: 10, busy: true)
        #expect(told.all == [10], "10 held: told")
        hub.published(upTo: 15, busy: true)
        #expect(told.all == [10])
    }

    @Test func noHoldWithoutALimitOrWithoutListeners() {
        let none = LogHub(head: 0, hold: .none)
        let told = Told()
        _ = none.add { told.record($0) }
        none.published(upTo: 3, busy: true)
        #expect(told.all == [3])

        let (hub, later) = (LogHub(head: 0, hold: DeliveryHold(limit: .seconds(60), urgentTypes: [])), Told())
        hub.published(upTo: 7, busy: true)
        #expect(hub.add { later.record($0) }.head == 7, "no one listened: nothing to hold")
    }

    @Test func urgentTypesMatchLikeAccessRules() throws {
        let at = Timestamp.now()
        let heartbeat = try IngestRetentionTests.request(
            .safetyHeartbeat, "h", ["device_id": "d1", "institution_id": "k1", "device_kind": "alarm", "at": .string(at.description), "status": "ok"],
            at: at)
        let alarm = try IngestRetentionTests.request(.safetyAlarm, "a", ["device_id": "d1", "institution_id": "k1", "at": .string(at.description)], at: at)
        let stored = [heartbeat, heartbeat, alarm].enumerated().map { GroupCommitter.Stored(seq: Int64($0.offset + 1), request: $0.element) }
        #expect(UrgentTypes(["safety.alarm"]).any(in: stored))
        #expect(UrgentTypes(["safety.*"]).any(in: Array(stored.prefix(1))))
        #expect(!UrgentTypes(["safety.alarm"]).any(in: Array(stored.prefix(2))))
        #expect(!UrgentTypes([]).any(in: stored))
    }

    /// The writer calls itself busy for a batch with feeds queued behind it (or taken from such a
    /// queue), or of 8 feeds or more; a lone feed with nothing behind it is not.
    @Test func theWriterSaysWhenItIsBusy() async throws {
        let directory = try TestDirectory("delivery-hold")
        defer { directory.remove() }
        let store = try SQLiteIngestStore(path: directory.file("ingest.sqlite"))
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        var n = 0
        func town() throws -> CommitRequest {
            n += 1
            return try IngestRetentionTests.request(.registryTown, "t\(n)", ["town_id": .string("t\(n)"), "name": "镇", "kind": "town"], at: .now())
        }
        /// A committer of `maxBatch` with `queued` feeds submitted before its thread starts;
        /// returns what it said of each batch once they are all answered.
        func batches(maxBatch: Int, queued: Int) async throws -> [(stored: Int, busy: Bool)] {
            let said = NIOLockedValueBox<[(stored: Int, busy: Bool)]>([])
            let committer = try GroupCommitter(store: store, maxBatch: maxBatch, logger: Logger(label: "test")) { _, stored, busy in
                said.withLockedValue { $0.append((stored.count, busy)) }
            }
            let futures = try (0..<queued).map { _ in
                let promise = loop.makePromise(of: JSONValue?.self)
                committer.submit(try town(), promise: promise)
                return promise.futureResult
            }
            committer.start()
            for future in futures { _ = try await future.get() }
            committer.stop()
            return said.withLockedValue { $0 }
        }
        // 20 queued, 5 to a batch: every batch but the last has feeds behind it, the last was
        // taken from that queue.
        let queue = try await batches(maxBatch: 5, queued: 20)
        #expect(queue.map(\.stored) == [5, 5, 5, 5])
        #expect(queue.map(\.busy) == [true, true, true, true])
        // 8 in one batch, nothing behind: busy by its size; 7: not.
        #expect(try await batches(maxBatch: 100, queued: 8).map(\.busy) == [true])
        #expect(try await batches(maxBatch: 100, queued: 7).map(\.busy) == [false])

        // One at a time (the next once the writer has said what it was): never busy.
        let said = NIOLockedValueBox<[Bool]>([])
        let committer = try GroupCommitter(store: store, maxBatch: 4096, logger: Logger(label: "test")) { _, _, busy in
            said.withLockedValue { $0.append(busy) }
        }
        committer.start()
        defer { committer.stop() }
        for k in 0..<3 {
            let promise = loop.makePromise(of: JSONValue?.self)
            committer.submit(try town(), promise: promise)
            _ = try await promise.futureResult.get()
            while said.withLockedValue({ $0.count }) <= k { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(said.withLockedValue { $0 } == [false, false, false])
    }
}
