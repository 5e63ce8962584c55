import DudaoLinks
import DudaoCore
import DudaoWire
import DudaoFeeds
import DudaoStorage
import Logging
import NIOConcurrencyHelpers

/// The state of `dudao-safety` and every change to it.
///
/// Memory and SQLite change together: each change runs on GRDB's writer queue, holding the
/// state lock, inside one transaction that also stores the consumer position and queues the
/// events in the outbox. If that transaction fails, the state is rebuilt from the file (which
/// it did not change) before the lock is released, so memory never runs ahead of what is
/// durable. The log consumer then re-delivers the batch from the stored position: each record
/// takes effect exactly once, each event is queued exactly once.
final class SafetyEngine: Sendable {
    let database: any SQLDatabase
    let clock: any DudaoClock
    let settings: SafetySettings
    /// When this process started: every device's silence is counted from no earlier than this.
    let startedAt: Timestamp
    private let box: NIOLockedValueBox<SafetyState>
    private let link = NIOLockedValueBox(FeedLink())
    private let logger: Logger

    /// What the engine knows of its link to the ingest log.
    struct FeedLink: Sendable {
        /// When the consumer last asked for its position, i.e. started a (re)connection (ms).
        var lastPositionRequest: Int64 = 0
        /// When a batch was last applied (ms).
        var lastApply: Int64 = 0
        /// How long before that the ingest had received the newest record of the batch (ms).
        var lastLag: Int64 = 0
    }

    /// What a liveness check did.
    struct CheckReport: Sendable, Equatable {
        /// Why device timers were not looked at, if they were not.
        var heldBack: String?
        var wentOffline = 0
        var cameBack = 0
        var closedAlarms = 0
        /// Institutions whose every device went offline / of which one came back.
        var institutionsDown = 0
        var institutionsBack = 0
    }

    /// Loads the state from `database` (rebuilt from SQLite: 1 000 000 devices take a few seconds).
    init(database: any SQLDatabase, clock: any DudaoClock, settings: SafetySettings, logger: Logger) throws {
        self.database = database
        self.clock = clock
        self.settings = settings
        self.logger = logger
        self.box = NIOLockedValueBox(try database.read { db in try SafetyStore.load(db) })
        self.startedAt = clock.now()
    }

    // MARK: reading

    /// Runs `body` on the current state (under the state lock: keep it short).
    func read<T>(_ body: (SafetyState) throws -> T) rethrows -> T {
        try box.withLockedValue { try body($0) }
    }

    /// The last applied log position; called by the log consumer before each (re)connection.
    func consumerPosition() -> Int64 {
        let now = clock.now().millis
        link.withLockedValue { $0.lastPositionRequest = now }
        return box.withLockedValue { $0.position }
    }

    /// The log consumer found its link silent: hold offline declarations as for a reconnection.
    func linkLost() {
        let now = clock.now().millis
        link.withLockedValue { $0.lastPositionRequest = now }
    }

    /// Why offline declarations are held back at `now`, or `nil`.
    ///
    /// While the consumer reconnects to the ingest (it asked for its position less than
    /// `reconnectHoldMillis` ago and nothing was applied since) or replays a backlog (the last
    /// batch, applied less than `offline_after` ago, was more than `catchUpLagMillis` old), the
    /// service cannot tell a silent device from a late record: it waits rather than declaring
    /// every device offline and then online again.
    func holdReason(now: Int64) -> String? {
        let settings = self.settings
        return link.withLockedValue { link in
            if link.lastPositionRequest > link.lastApply, now - link.lastPositionRequest < settings.reconnectHoldMillis {
                return "(re)connecting to the ingest log: nothing applied since"
            }
            if now - link.lastApply < settings.liveness.offlineAfterMillis, link.lastLag > settings.catchUpLagMillis {
                return "catching up with the ingest log"
            }
            return nil
        }
    }

    // MARK: changing

    /// Applies a batch of log records and stores the position, in one transaction.
    func apply(_ records: [LogRecord]) async throws {
        guard let last = records.last else { return }
        let now = clock.now().millis
        let newest = records.reduce(Int64.min) { max($0, $1.receivedAt.millis) }
        try await mutate { state, db in
            var touched: [Int32] = []
            let firstNew = state.devices.count
            for record in records where record.seq > state.position {
                try self.apply(record, to: &state, db: db, touched: &touched, now: now)
            }
            try SafetyStore.saveDevices(db, state: &state, touched: touched, firstNew: firstNew)
            if last.seq > state.position {
                try ConsumerPosition.save(db, last.seq)
                state.position = last.seq
            }
        }
        link.withLockedValue {
            $0.lastApply = now
            $0.lastLag = now - newest
        }
    }

    /// Marks silent devices offline, confirms returned ones online and closes old alarms.
    func check() async throws -> CheckReport {
        let now = clock.now().millis
        let held = holdReason(now: now)
        let grace = startedAt.millis
        return try await mutate { state, db in
            var report = CheckReport(heldBack: held)
            report.closedAlarms = try self.closeAlarms(&state, db: db, now: now)
            if held != nil { return report }
            let liveness = self.settings.liveness
            var touched: [Int32] = []
            var devices = [Int32](repeating: 0, count: state.institutions.count)
            var offline = [Int32](repeating: 0, count: state.institutions.count)
            for i in 0..<state.devices.count {
                let before = state.devices.records[i]
                if before.state == .retired { continue }
                let institution = Int(before.institution)
                devices[institution] += 1
                // Offline with its event sent: only a heartbeat can change it.
                if before.state == .offline, before.alerting == .offline {
                    offline[institution] += 1
                    continue
                }
                let transition = Liveness.check(&state.devices.records[i], now: now, graceFrom: grace, settings: liveness)
                let after = state.devices.records[i]
                if after.state == .offline { offline[institution] += 1 }
                if after.differsDurably(from: before) { touched.append(Int32(i)) }
                guard let transition else { continue }
                if transition == .wentOffline { report.wentOffline += 1 } else { report.cameBack += 1 }
                try self.enqueue(
                    SafetyEvents.device(
                        transition, deviceID: state.devices.ids[i], record: after, place: state.place(ofInstitution: after.institution),
                        settings: liveness, at: now),
                    db: db, now: now)
            }
            try SafetyStore.saveDevices(db, state: &state, touched: touched, firstNew: state.devices.count)
            try self.checkInstitutions(&state, db: db, devices: devices, offline: offline, now: now, report: &report)
            return report
        }
    }

    /// An institution with at least two devices, all offline, is down (one firing
    /// `safety.institution_offline`); it is back once one of them is not offline. Devices retired
    /// meanwhile do not end it: it stays down while every device left (one is enough) is offline.
    private func checkInstitutions(
        _ state: inout SafetyState, db: any SQLConnection, devices: [Int32], offline: [Int32], now: Int64, report: inout CheckReport
    ) throws {
        for index in 0..<devices.count {
            let id = state.institutions.ids[index]
            let firing = state.institutionsDown[id] != nil
            let down = devices[index] >= (firing ? 1 : 2) && offline[index] == devices[index]
            guard down != firing else { continue }
            let place = state.place(ofInstitution: id)
            let since = state.institutionsDown[id] ?? now
            if down {
                state.institutionsDown[id] = now
                report.institutionsDown += 1
            } else {
                state.institutionsDown[id] = nil
                report.institutionsBack += 1
            }
            try SafetyStore.setInstitutionDown(db, id: id, since: down ? now : nil)
            try enqueue(SafetyEvents.institution(down: down, place: place, devices: Int(devices[index]), since: since, at: now), db: db, now: now)
        }
    }

    /// Writes the `last_seen` of every device heard from since the last flush, in chunks.
    @discardableResult
    func flushLastSeen(chunk: Int = 50_000) async throws -> Int {
        var from: Int? = 0
        var total = 0
        while let start = from {
            let (next, written) = try await mutate { state, db in
                try SafetyStore.flushLastSeen(db, state: &state, from: start, limit: chunk)
            }
            from = next
            total += written
        }
        return total
    }

    /// Runs `body` on the state and the database in one transaction, under the state lock.
    private func mutate<T: Sendable>(_ body: @escaping @Sendable (inout SafetyState, any SQLConnection) throws -> T) async throws -> T {
        let box = self.box
        let logger = self.logger
        return try await database.writeWithoutTransaction { db in
            try box.withLockedValue { state in
                var result: T?
                do {
                    result = try db.inTransaction { try body(&state, db) }
                } catch {
                    logger.error("a transaction failed; rebuilding the state from the database", metadata: ["error": "\(error)"])
                    state = try SafetyStore.load(db)
                    throw error
                }
                return result!
            }
        }
    }

    // MARK: records

    private func apply(_ record: LogRecord, to state: inout SafetyState, db: any SQLConnection, touched: inout [Int32], now: Int64) throws {
        guard SafetyEngine.followed.contains(record.type) else { return }
        let feed: Feed
        do throws(WireError) {
            feed = try record.decode()
        } catch {
            logger.warning(
                "skipping a record that does not validate", metadata: ["seq": "\(record.seq)", "error": "\(error.message)"])
            return
        }
        switch feed {
        case .registryTown, .registryInstitution:
            state.registry.apply(feed)
            try SafetyStore.saveRegistry(db, type: record.type, key: feed.key, body: record.body)
        case .safetyInventory(let decoded):
            let id = decoded.institutionID
            let inventory = Inventory(decoded, asOf: record.asOf)
            let previous = state.inventories[id]
            if let previous, previous.asOf > inventory.asOf { return }
            state.inventories[id] = inventory
            try SafetyStore.saveInventory(db, institutionID: id, asOf: inventory.asOf, body: record.body)
            if let previous {
                let removed = Set(previous.alarmDevices).subtracting(inventory.alarmDevices)
                try retire(removed, institution: id, state: &state, db: db, touched: &touched, at: record.receivedAt.millis, now: now)
            }
            relist(inventory.alarmDevices, institution: id, state: &state, touched: &touched, at: record.receivedAt.millis)
        case .safetyHeartbeat(let heartbeat):
            try apply(heartbeat, record, to: &state, db: db, touched: &touched, now: now)
        case .safetyAlarm(let alarm):
            try apply(alarm, record, to: &state, db: db, now: now)
        default:
            return
        }
    }

    /// The feed types this service follows (the others are not decoded).
    static let followed: Set<FeedType> = [.registryTown, .registryInstitution, .safetyInventory, .safetyHeartbeat, .safetyAlarm]

    /// Retires the alarm devices an institution's newer inventory no longer lists (those that
    /// belong to it: a device since heard from at another institution is not touched).
    private func retire(
        _ removed: Set<String>, institution: String, state: inout SafetyState, db: any SQLConnection, touched: inout [Int32], at: Int64,
        now: Int64
    ) throws {
        guard !removed.isEmpty, let owner = state.institutions.find(institution) else { return }
        for deviceID in removed.sorted() {
            guard let index = state.devices.find(deviceID) else { continue }
            let before = state.devices.records[Int(index)]
            guard before.institution == owner, before.kind == .alarm else { continue }
            let transition = Liveness.retire(&state.devices.records[Int(index)], at: at)
            touched.append(index)
            guard let transition else { continue }
            let after = state.devices.records[Int(index)]
            try enqueue(
                SafetyEvents.device(
                    transition, deviceID: deviceID, record: after, place: state.place(ofInstitution: owner), settings: settings.liveness,
                    at: now),
                db: db, now: now)
        }
    }

    /// Listed again: a retired device of this institution is watched again from `at`, as if just
    /// heard from (it gets a full `offline_after` to report before it is declared offline) — unless
    /// the institution's link is down: then it is as silent as the rest (offline, nothing firing
    /// for it alone), so listing it neither restores the link nor pages for it.
    private func relist(_ listed: [String], institution: String, state: inout SafetyState, touched: inout [Int32], at: Int64) {
        guard let owner = state.institutions.find(institution) else { return }
        let linkDown = state.institutionsDown[institution] != nil
        for deviceID in listed {
            guard let index = state.devices.find(deviceID) else { continue }
            let record = state.devices.records[Int(index)]
            guard record.state == .retired, record.institution == owner else { continue }
            state.devices.records[Int(index)].state = linkDown ? .offline : .online
            state.devices.records[Int(index)].alerting = .none
            state.devices.records[Int(index)].since = at
            state.devices.records[Int(index)].lastSeen = max(record.lastSeen, at)
            touched.append(index)
        }
    }

    private func apply(
        _ heartbeat: Heartbeat, _ record: LogRecord, to state: inout SafetyState, db: any SQLConnection, touched: inout [Int32], now: Int64
    ) throws {
        let deviceID = heartbeat.deviceID
        let institutionID = heartbeat.institutionID
        let kind = heartbeat.deviceKind
        let ok = heartbeat.status == .ok
        let institution = state.institutions.intern(institutionID)
        let at = heartbeat.at.millis
        let receivedAt = record.receivedAt.millis
        let transition: DeviceTransition?
        let index: Int32
        if let known = state.devices.find(deviceID) {
            index = known
            let before = state.devices.records[Int(index)]
            transition = Liveness.heartbeat(
                &state.devices.records[Int(index)], ok: ok, at: at, receivedAt: receivedAt, settings: settings.liveness)
            if at >= before.lastAt {
                state.devices.records[Int(index)].institution = institution
                state.devices.records[Int(index)].kind = kind
            }
            if state.devices.records[Int(index)].differsDurably(from: before) { touched.append(index) }
        } else {
            let (fresh, first) = Liveness.firstHeartbeat(
                institution: institution, kind: kind, ok: ok, at: at, receivedAt: receivedAt)
            index = state.devices.append(id: deviceID, record: fresh)
            transition = first
        }
        if let transition {
            let current = state.devices.records[Int(index)]
            try enqueue(
                SafetyEvents.device(
                    transition, deviceID: deviceID, record: current, place: state.place(ofInstitution: current.institution),
                    settings: settings.liveness, at: now),
                db: db, now: now)
        }
    }

    private func apply(_ pressed: Alarm, _ record: LogRecord, to state: inout SafetyState, db: any SQLConnection, now: Int64) throws {
        let institutionID = pressed.institutionID
        let at = pressed.at.millis
        let alarm = AlarmRecord(
            id: AlarmRecord.eventID(device: pressed.deviceID, at: at), deviceID: pressed.deviceID, institutionID: institutionID,
            at: at, receivedAt: record.receivedAt.millis, note: pressed.note)
        let age = now - alarm.receivedAt
        let tooOld = age > settings.alarmMaxAgeMillis
        let closedAt: Int64? = tooOld || age >= settings.alarmOpenMillis ? now : nil
        // Recorded before (the same alarm re-sent with another note): nothing more.
        guard try SafetyStore.insertAlarm(db, alarm, closedAt: closedAt) else { return }
        if closedAt == nil { state.openAlarms.append(alarm) }
        if tooOld {
            logger.warning(
                "an alarm older than alarm_max_age_hours was recorded without an event",
                metadata: ["alarm": "\(alarm.id)", "received_at": "\(Timestamp(millis: alarm.receivedAt))"])
            return
        }
        try enqueue(SafetyEvents.alarm(alarm, place: state.place(ofInstitution: institutionID)), db: db, now: now)
    }

    private func closeAlarms(_ state: inout SafetyState, db: any SQLConnection, now: Int64) throws -> Int {
        let window = settings.alarmOpenMillis
        let expired = state.openAlarms.filter { now - $0.receivedAt >= window }
        guard !expired.isEmpty else { return 0 }
        for alarm in expired { try SafetyStore.closeAlarm(db, id: alarm.id, at: now) }
        state.openAlarms.removeAll { now - $0.receivedAt >= window }
        return expired.count
    }

    private func enqueue(_ event: AlertEvent, db: any SQLConnection, now: Int64) throws {
        try Outbox.enqueue(db, id: event.id, frame: event.frame, now: Timestamp(millis: now))
    }
}
