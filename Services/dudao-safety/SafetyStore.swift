import DudaoCore
import DudaoFeeds
import DudaoStorage

/// `dudao-safety`'s database (a SQLite file, or schema `dudao_safety` on PostgreSQL): the state of ``SafetyState``, the consumer position and the
/// outbox, changed together in one transaction per batch.
///
/// A device row is written when it appears and on every durable change (state, alerting,
/// institution, kind); its `last_seen`/`last_at` are also flushed lazily, in row order, every
/// `last_seen_flush_seconds`. Heartbeats are never stored one by one: at 20 000 a second they
/// would rewrite a random B-tree page each, and nothing after a restart needs them to the
/// second (a restart gives every online device a fresh `offline_after`, see ``Liveness``).
enum SafetyStore {
    static let migrations: [SQLMigration] = [
        ConsumerPosition.migration,
        Outbox.migration,
        SQLMigration(
            "safety-v1",
            sqlite: """
                CREATE TABLE registry (
                    type TEXT NOT NULL,
                    key TEXT NOT NULL,
                    body TEXT NOT NULL,
                    PRIMARY KEY (type, key)) WITHOUT ROWID;
                CREATE TABLE inventory (
                    institution_id TEXT PRIMARY KEY,
                    as_of INTEGER NOT NULL,
                    body TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE device (
                    idx INTEGER PRIMARY KEY,
                    device_id TEXT NOT NULL,
                    institution_id TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    state INTEGER NOT NULL,
                    alerting INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL,
                    last_at INTEGER NOT NULL,
                    since INTEGER NOT NULL);
                CREATE TABLE alarm (
                    alarm_id TEXT PRIMARY KEY,
                    device_id TEXT NOT NULL,
                    institution_id TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    note TEXT,
                    closed_at INTEGER) WITHOUT ROWID;
                """,
            postgres: [
                "CREATE TABLE registry (type TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (type, key))",
                "CREATE TABLE inventory (institution_id TEXT PRIMARY KEY, as_of BIGINT NOT NULL, body TEXT NOT NULL)",
                """
                CREATE TABLE device (
                    idx BIGINT PRIMARY KEY,
                    device_id TEXT NOT NULL,
                    institution_id TEXT NOT NULL,
                    kind BIGINT NOT NULL,
                    state BIGINT NOT NULL,
                    alerting BIGINT NOT NULL,
                    last_seen BIGINT NOT NULL,
                    last_at BIGINT NOT NULL,
                    since BIGINT NOT NULL)
                """,
                """
                CREATE TABLE alarm (
                    alarm_id TEXT PRIMARY KEY,
                    device_id TEXT NOT NULL,
                    institution_id TEXT NOT NULL,
                    at BIGINT NOT NULL,
                    received_at BIGINT NOT NULL,
                    note TEXT,
                    closed_at BIGINT)
                """,
            ]),
        SQLMigration(
            "safety-v2-institution-down",
            sqlite: "CREATE TABLE institution_down (institution_id TEXT PRIMARY KEY, since INTEGER NOT NULL) WITHOUT ROWID",
            postgres: ["CREATE TABLE institution_down (institution_id TEXT PRIMARY KEY, since BIGINT NOT NULL)"]),
    ]

    // MARK: loading

    /// Rebuilds the whole state from the file.
    static func load(_ db: any SQLConnection) throws -> SafetyState {
        var state = SafetyState()
        state.position = try ConsumerPosition.load(db)
        // Towns before institutions: an institution refers to its town.
        for type in [FeedType.registryTown, .registryInstitution] {
            for row in try db.rows("SELECT body FROM registry WHERE type = ?", [type.rawValue]) {
                let text: String = row[0]
                guard let body = (try? JSONParser.parse(text))?.objectValue, let feed = try? FeedValidator.decode(type, body)
                else { continue }
                state.registry.apply(feed)
            }
        }
        for row in try db.rows("SELECT institution_id, as_of, body FROM inventory") {
            let text: String = row[2]
            guard let body = (try? JSONParser.parse(text))?.objectValue,
                case .safetyInventory(let inventory) = try? FeedValidator.decode(.safetyInventory, body)
            else { continue }
            state.inventories[row[0]] = Inventory(inventory, asOf: Timestamp(millis: row[1]))
        }
        let count = try db.int("SELECT COUNT(*) FROM device")
        state.devices.reserveCapacity(count)
        try db.forEachRow(
            sql: "SELECT idx, device_id, institution_id, kind, state, alerting, last_seen, last_at, since FROM device ORDER BY idx", arguments: []
        ) { row in
            let idx: Int = row[0]
            guard idx == state.devices.count else {
                throw SafetyStoreError("device rows are not numbered 0..<n (found \(idx) at \(state.devices.count))")
            }
            let record = DeviceRecord(
                institution: state.institutions.intern(row[2]),
                kind: DeviceKind(storeCode: row[3]),
                state: DeviceState(rawValue: row[4]) ?? .online,
                alerting: DeviceProblem(rawValue: row[5]) ?? .none,
                dirty: false, lastSeen: row[6], lastAt: row[7], since: row[8])
            _ = state.devices.append(id: row[1], record: record)
        }
        for row in try db.rows("SELECT alarm_id, device_id, institution_id, at, received_at, note FROM alarm WHERE closed_at IS NULL ORDER BY received_at") {
            state.openAlarms.append(
                AlarmRecord(id: row[0], deviceID: row[1], institutionID: row[2], at: row[3], receivedAt: row[4], note: row[5]))
        }
        for row in try db.rows("SELECT institution_id, since FROM institution_down") {
            state.institutionsDown[row[0]] = row[1]
        }
        return state
    }

    // MARK: writing (inside the caller's transaction)

    static func saveRegistry(_ db: any SQLConnection, type: FeedType, key: String, body: JSONObject) throws {
        try db.run(
            "INSERT INTO registry (type, key, body) VALUES (?, ?, ?) ON CONFLICT (type, key) DO UPDATE SET body = excluded.body",
            [type.rawValue, key, JSONWriter.string(.object(body))])
    }

    static func saveInventory(_ db: any SQLConnection, institutionID: String, asOf: Int64, body: JSONObject) throws {
        try db.run(
            "INSERT INTO inventory (institution_id, as_of, body) VALUES (?, ?, ?) "
                + "ON CONFLICT (institution_id) DO UPDATE SET as_of = excluded.as_of, body = excluded.body",
            [institutionID, asOf, JSONWriter.string(.object(body))])
    }

    /// Records an alarm; `false` when one with the same id was recorded before (a replay).
    static func insertAlarm(_ db: any SQLConnection, _ alarm: AlarmRecord, closedAt: Int64?) throws -> Bool {
        try db.execute(
            sql: """
                INSERT INTO alarm (alarm_id, device_id, institution_id, at, received_at, note, closed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alarm_id) DO NOTHING
                """,
            arguments: [alarm.id, alarm.deviceID, alarm.institutionID, alarm.at, alarm.receivedAt, alarm.note, closedAt]) == 1
    }

    static func setInstitutionDown(_ db: any SQLConnection, id: String, since: Int64?) throws {
        if let since {
            try db.run(
                "INSERT INTO institution_down (institution_id, since) VALUES (?, ?) ON CONFLICT (institution_id) DO UPDATE SET since = excluded.since",
                [id, since])
        } else {
            try db.run("DELETE FROM institution_down WHERE institution_id = ?", [id])
        }
    }

    static func closeAlarm(_ db: any SQLConnection, id: String, at: Int64) throws {
        try db.run("UPDATE alarm SET closed_at = ? WHERE alarm_id = ?", [at, id])
    }

    /// Writes the rows of `touched` devices (inserting those at or above `firstNew`) and clears
    /// their dirty flags.
    static func saveDevices(_ db: any SQLConnection, state: inout SafetyState, touched: [Int32], firstNew: Int) throws {
        guard !touched.isEmpty || state.devices.count > firstNew else { return }
        for idx in Set(touched).sorted() where Int(idx) < firstNew {
            let r = state.devices.records[Int(idx)]
            try db.run(
                "UPDATE device SET institution_id = ?, kind = ?, state = ?, alerting = ?, last_seen = ?, last_at = ?, since = ? WHERE idx = ?",
                [
                    state.institutions.ids[Int(r.institution)], r.kind.storeCode, r.state.rawValue, r.alerting.rawValue, r.lastSeen,
                    r.lastAt, r.since, idx,
                ])
            state.devices.records[Int(idx)].dirty = false
        }
        let added = firstNew..<state.devices.count
        try insertDevices.run(added, on: db) { idx, arguments in
            let r = state.devices.records[idx]
            arguments.values += [
                .integer(Int64(idx)), .text(state.devices.ids[idx]), .text(state.institutions.ids[Int(r.institution)]),
                .integer(Int64(r.kind.storeCode)), .integer(Int64(r.state.rawValue)), .integer(Int64(r.alerting.rawValue)),
                .integer(r.lastSeen), .integer(r.lastAt), .integer(r.since),
            ]
        }
        for idx in added { state.devices.records[idx].dirty = false }
    }

    /// New devices, 32 to a statement (the first heartbeats of a new deployment are mostly new devices).
    static let insertDevices = MultiRowStatement(
        prefix: "INSERT INTO device (idx, device_id, institution_id, kind, state, alerting, last_seen, last_at, since) VALUES",
        row: "(?, ?, ?, ?, ?, ?, ?, ?, ?)")

    /// Writes `last_seen`/`last_at` of up to `limit` dirty devices from index `from` on, in row
    /// order; returns the index to continue from (`nil`: reached the end) and how many were written.
    static func flushLastSeen(_ db: any SQLConnection, state: inout SafetyState, from: Int, limit: Int) throws -> (next: Int?, written: Int) {
        var written = 0
        var idx = from
        let end = state.devices.count
        while idx < end, written < limit {
            if state.devices.records[idx].dirty {
                let r = state.devices.records[idx]
                try db.run("UPDATE device SET last_seen = ?, last_at = ? WHERE idx = ?", [r.lastSeen, r.lastAt, idx])
                state.devices.records[idx].dirty = false
                written += 1
            }
            idx += 1
        }
        return (idx < end ? idx : nil, written)
    }
}

/// The safety database holds something the engine cannot load.
struct SafetyStoreError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
