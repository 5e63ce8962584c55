import DudaoCore
import DudaoFeeds
import DudaoStorage
import GRDB

/// `dudao-safety`'s SQLite file: the state of ``SafetyState``, the consumer position and the
/// outbox, changed together in one transaction per batch.
///
/// A device row is written when it appears and on every durable change (state, alerting,
/// institution, kind); its `last_seen`/`last_at` are also flushed lazily, in row order, every
/// `last_seen_flush_seconds`. Heartbeats are never stored one by one: at 20 000 a second they
/// would rewrite a random B-tree page each, and nothing after a restart needs them to the
/// second (a restart gives every online device a fresh `offline_after`, see ``Liveness``).
enum SafetyStore {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        ConsumerPosition.registerMigration(in: &migrator)
        Outbox.registerMigration(in: &migrator)
        migrator.registerMigration("safety-v1") { db in
            try db.execute(
                sql: """
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
                    """)
        }
        migrator.registerMigration("safety-v2-institution-down") { db in
            try db.execute(
                sql: "CREATE TABLE institution_down (institution_id TEXT PRIMARY KEY, since INTEGER NOT NULL) WITHOUT ROWID")
        }
        return migrator
    }

    // MARK: loading

    /// Rebuilds the whole state from the file.
    static func load(_ db: Database) throws -> SafetyState {
        var state = SafetyState()
        state.position = try ConsumerPosition.load(db)
        // Towns before institutions: an institution refers to its town.
        for type in [FeedType.registryTown, .registryInstitution] {
            for row in try Row.fetchAll(db, sql: "SELECT body FROM registry WHERE type = ?", arguments: [type.rawValue]) {
                let text: String = row[0]
                guard let body = (try? JSONParser.parse(text))?.objectValue, let feed = try? FeedValidator.decode(type, body)
                else { continue }
                state.registry.apply(feed)
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT institution_id, as_of, body FROM inventory") {
            let text: String = row[2]
            guard let body = (try? JSONParser.parse(text))?.objectValue,
                case .safetyInventory(let inventory) = try? FeedValidator.decode(.safetyInventory, body)
            else { continue }
            state.inventories[row[0]] = Inventory(inventory, asOf: Timestamp(millis: row[1]))
        }
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM device") ?? 0
        state.devices.reserveCapacity(count)
        let cursor = try Row.fetchCursor(
            db, sql: "SELECT idx, device_id, institution_id, kind, state, alerting, last_seen, last_at, since FROM device ORDER BY idx")
        while let row = try cursor.next() {
            let idx: Int = row[0]
            guard idx == state.devices.count else {
                throw DatabaseError(message: "device rows are not numbered 0..<n (found \(idx) at \(state.devices.count))")
            }
            let record = DeviceRecord(
                institution: state.institutions.intern(row[2]),
                kind: DeviceKind(storeCode: row[3]),
                state: DeviceState(rawValue: row[4]) ?? .online,
                alerting: DeviceProblem(rawValue: row[5]) ?? .none,
                dirty: false, lastSeen: row[6], lastAt: row[7], since: row[8])
            _ = state.devices.append(id: row[1], record: record)
        }
        for row in try Row.fetchAll(
            db, sql: "SELECT alarm_id, device_id, institution_id, at, received_at, note FROM alarm WHERE closed_at IS NULL ORDER BY received_at")
        {
            state.openAlarms.append(
                AlarmRecord(id: row[0], deviceID: row[1], institutionID: row[2], at: row[3], receivedAt: row[4], note: row[5]))
        }
        for row in try Row.fetchAll(db, sql: "SELECT institution_id, since FROM institution_down") {
            state.institutionsDown[row[0]] = row[1]
        }
        return state
    }

    // MARK: writing (inside the caller's transaction)

    static func saveRegistry(_ db: Database, type: FeedType, key: String, body: JSONObject) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO registry (type, key, body) VALUES (?, ?, ?)")
            .execute(arguments: [type.rawValue, key, JSONWriter.string(.object(body))])
    }

    static func saveInventory(_ db: Database, institutionID: String, asOf: Int64, body: JSONObject) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO inventory (institution_id, as_of, body) VALUES (?, ?, ?)")
            .execute(arguments: [institutionID, asOf, JSONWriter.string(.object(body))])
    }

    /// Records an alarm; `false` when one with the same id was recorded before (a replay).
    static func insertAlarm(_ db: Database, _ alarm: AlarmRecord, closedAt: Int64?) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO alarm (alarm_id, device_id, institution_id, at, received_at, note, closed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [alarm.id, alarm.deviceID, alarm.institutionID, alarm.at, alarm.receivedAt, alarm.note, closedAt])
        return db.changesCount == 1
    }

    static func setInstitutionDown(_ db: Database, id: String, since: Int64?) throws {
        if let since {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO institution_down (institution_id, since) VALUES (?, ?)")
                .execute(arguments: [id, since])
        } else {
            try db.cachedStatement(sql: "DELETE FROM institution_down WHERE institution_id = ?").execute(arguments: [id])
        }
    }

    static func closeAlarm(_ db: Database, id: String, at: Int64) throws {
        try db.cachedStatement(sql: "UPDATE alarm SET closed_at = ? WHERE alarm_id = ?").execute(arguments: [at, id])
    }

    /// Writes the rows of `touched` devices (inserting those at or above `firstNew`) and clears
    /// their dirty flags.
    static func saveDevices(_ db: Database, state: inout SafetyState, touched: [Int32], firstNew: Int) throws {
        guard !touched.isEmpty || state.devices.count > firstNew else { return }
        let update = try db.cachedStatement(
            sql: "UPDATE device SET institution_id = ?, kind = ?, state = ?, alerting = ?, last_seen = ?, last_at = ?, since = ? WHERE idx = ?")
        for idx in Set(touched).sorted() where Int(idx) < firstNew {
            let r = state.devices.records[Int(idx)]
            try update.execute(arguments: [
                state.institutions.ids[Int(r.institution)], r.kind.storeCode, r.state.rawValue, r.alerting.rawValue, r.lastSeen,
                r.lastAt, r.since, idx,
            ])
            state.devices.records[Int(idx)].dirty = false
        }
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO device (idx, device_id, institution_id, kind, state, alerting, last_seen, last_at, since)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for idx in firstNew..<state.devices.count {
            let r = state.devices.records[idx]
            try insert.execute(arguments: [
                idx, state.devices.ids[idx], state.institutions.ids[Int(r.institution)], r.kind.storeCode, r.state.rawValue,
                r.alerting.rawValue, r.lastSeen, r.lastAt, r.since,
            ])
            state.devices.records[idx].dirty = false
        }
    }

    /// Writes `last_seen`/`last_at` of up to `limit` dirty devices from index `from` on, in row
    /// order; returns the index to continue from (`nil`: reached the end) and how many were written.
    static func flushLastSeen(_ db: Database, state: inout SafetyState, from: Int, limit: Int) throws -> (next: Int?, written: Int) {
        let update = try db.cachedStatement(sql: "UPDATE device SET last_seen = ?, last_at = ? WHERE idx = ?")
        var written = 0
        var idx = from
        let end = state.devices.count
        while idx < end, written < limit {
            if state.devices.records[idx].dirty {
                let r = state.devices.records[idx]
                try update.execute(arguments: [r.lastSeen, r.lastAt, idx])
                state.devices.records[idx].dirty = false
                written += 1
            }
            idx += 1
        }
        return (idx < end ? idx : nil, written)
    }
}
