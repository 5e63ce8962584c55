import DudaoCore
import DudaoFeeds
import DudaoTesting
import Testing

@testable import dudao_ingest

/// Retention drops old events, but sequence numbers are never handed out twice: a consumer that
/// committed position N must never miss a record because a later one was numbered N again.
@Suite struct IngestRetentionTests {
    static func request(_ type: FeedType, _ id: String, _ body: JSONObject, at: Timestamp) throws -> CommitRequest {
        guard case .success(let feed) = FeedValidator.validate(type: type.rawValue, body: body) else {
            throw WireError(.invalidField, "test feed \(id) does not validate")
        }
        return CommitRequest(
            sender: "test", feedID: id, feed: feed, allowedTowns: nil, receivedAt: at, dedupeWindowMillis: 7 * 86_400_000)
    }

    @Test(arguments: StoreBackend.allCases)
    func compactingTheNewestEventDoesNotReuseItsSequenceNumber(backend: StoreBackend) throws {
        let directory = try TestDirectory("ingest-retention")
        defer { directory.remove() }
        let store = try backend.open(try backend.freshPlace(in: directory))
        var registry = try store.loadRegistry()
        let day: Int64 = 86_400_000
        let t0 = Timestamp(millis: 1_795_910_400_000)
        let alarmAt = Timestamp(millis: t0.millis + 1000)
        let outcomes = try store.commit(
            [
                try Self.request(.registryTown, "town", ["town_id": "dongcheng", "name": "东成镇", "kind": "town"], at: t0),
                try Self.request(
                    .registryInstitution, "kg",
                    ["institution_id": "kg-1", "name": "东成镇中心幼儿园", "town_id": "dongcheng", "level": "kindergarten", "ownership": "public"],
                    at: t0),
                try Self.request(
                    .safetyAlarm, "alarm", ["device_id": "a-1", "institution_id": "kg-1", "at": .string(alarmAt.description)], at: alarmAt),
            ], registry: &registry, now: t0)
        #expect(outcomes == [.accepted(seq: 1), .accepted(seq: 2), .accepted(seq: 3)])

        // 91 days later the alarm is past its 90 days, and every consumer has it. On SQLite it
        // is the newest record, so it stays for now (SQLite numbers the next row MAX(seq) + 1);
        // PostgreSQL numbers from log_head, so it goes at once.
        let policy = RetentionPolicy(dedupeWindowMillis: 7 * day, eventRetentionMillis: 90 * day, consumers: [])
        let later = Timestamp(millis: t0.millis + 91 * day)
        let removedAtOnce = try store.compact(policy: policy, now: later).eventsRemoved
        #expect(removedAtOnce == (backend == .sqlite ? 0 : 1))
        #expect(try store.head() == 3)

        // The next record is numbered after it, and then the old alarm goes.
        let next = try store.commit(
            [try Self.request(.registryTown, "town-2", ["town_id": "encheng", "name": "恩城街道", "kind": "street"], at: later)],
            registry: &registry, now: later)
        #expect(next == [.accepted(seq: 4)])
        #expect(try store.compact(policy: policy, now: later).eventsRemoved == 1 - removedAtOnce)
        #expect(try store.readLog(after: 0, limit: 10).map(\.seq) == [1, 2, 4])

        // Sent again once forgotten, the alarm is a new record: its key's current version went
        // with it (on SQLite, from the store's cache of current versions too).
        let again = try store.commit(
            [
                try Self.request(
                    .safetyAlarm, "alarm-again", ["device_id": "a-1", "institution_id": "kg-1", "at": .string(alarmAt.description)],
                    at: later)
            ], registry: &registry, now: later)
        #expect(again == [.accepted(seq: 5)])
    }
}
