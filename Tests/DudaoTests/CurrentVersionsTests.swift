import DudaoCore
import DudaoFeeds
import DudaoTesting
import GRDB
import Testing

@testable import dudao_ingest

/// The SQLite store checks a record against its key's current version from memory, loaded
/// whole at start: after a restart an older reading is still stale, a newer one and a new key
/// are still stored.
@Suite struct CurrentVersionsTests {
    static func heartbeat(_ id: String, device: String, at: String) throws -> CommitRequest {
        try IngestRetentionTests.request(
            .safetyHeartbeat, id, ["device_id": .string(device), "institution_id": "kg-1", "device_kind": "alarm", "at": .string(at), "status": "ok"],
            at: .now())
    }

    /// Town t1 and its kindergarten kg-1, which the heartbeats name.
    static func townAndKindergarten() throws -> [CommitRequest] {
        [
            try IngestRetentionTests.request(.registryTown, "town", ["town_id": "t1", "name": "东成镇", "kind": "town"], at: .now()),
            try IngestRetentionTests.request(
                .registryInstitution, "kg",
                ["institution_id": "kg-1", "name": "幼儿园", "town_id": "t1", "level": "kindergarten", "ownership": "public"], at: .now()),
        ]
    }

    @Test func aRestartedStoreStillKnowsEveryKeysVersion() throws {
        let directory = try TestDirectory("current-versions")
        defer { directory.remove() }
        let path = directory.file("ingest.sqlite")
        var registry = Registry()
        do {
            let store = try SQLiteIngestStore(path: path)
            let outcomes = try store.commit(
                try Self.townAndKindergarten() + [try Self.heartbeat("h1", device: "d1", at: "2025-09-01T08:10:00+08:00")],
                registry: &registry, now: .now())
            #expect(outcomes == [.accepted(seq: 1), .accepted(seq: 2), .accepted(seq: 3)])
        }
        let store = try SQLiteIngestStore(path: path)
        registry = try store.loadRegistry()
        let outcomes = try store.commit(
            [
                try Self.heartbeat("h2", device: "d1", at: "2025-09-01T08:05:00+08:00"),
                try Self.heartbeat("h3", device: "d1", at: "2025-09-01T08:10:00+08:00"),
                try Self.heartbeat("h4", device: "d1", at: "2025-09-01T08:20:00+08:00"),
                try Self.heartbeat("h5", device: "d2", at: "2025-09-01T08:01:00+08:00"),
                try Self.heartbeat("h6", device: "d2", at: "2025-09-01T08:00:00+08:00"),
            ], registry: &registry, now: .now())
        #expect(outcomes == [.stale, .stale, .accepted(seq: 4), .accepted(seq: 5), .stale])
    }

    /// A database from before v4 (a table of current versions) upgrades: the table goes and the
    /// versions come from the log, superseded records included.
    @Test func aDatabaseWithTheOldCurrentTableUpgrades() throws {
        let directory = try TestDirectory("current-versions-upgrade")
        defer { directory.remove() }
        let path = directory.file("ingest.sqlite")
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteIngestStore.migrator.migrate(pool, upTo: "v3-current-by-key")
            try pool.write { db in
                for (seq, asOf) in [(1, 100), (2, 300)] as [(Int64, Int64)] {
                    try db.execute(
                        sql: "INSERT INTO log VALUES (?, 'test', ?, 'safety.heartbeat', 'kg-1/d1', ?, 0, '{}')",
                        arguments: [seq, "h\(seq)", asOf])
                }
                try db.execute(sql: "INSERT INTO current VALUES ('safety.heartbeat', 'kg-1/d1', 300, 2)")
            }
        }
        let store = try SQLiteIngestStore(path: path)
        let version = store.versions.version(of: CurrentVersions.Key(type: "safety.heartbeat", key: "kg-1/d1"))
        #expect(version?.seq == 2 && version?.asOf == 300)
        let tables = try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(!tables.contains("current"))
    }
}
