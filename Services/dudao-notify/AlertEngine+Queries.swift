import DudaoCore
import DudaoStorage

/// The queries of `dudao-notify` (SPEC section 4 and the project's own), each run in a
/// transaction given by the caller. A rejection is returned, not thrown: only storage errors throw.
extension AlertEngine {
    typealias QueryResult = Result<JSONValue, WireError>

    private func limit(_ body: JSONObject, default fallback: Int) -> Result<Int, WireError> {
        guard let value = body["limit"] else { return .success(fallback) }
        guard let number = value.intValue, (1...10_000).contains(number) else {
            return .failure(WireError(.invalidField, "body.limit must be an integer from 1 to 10000", path: "body.limit"))
        }
        return .success(Int(number))
    }

    private func optionalString(_ body: JSONObject, _ name: String) -> Result<String?, WireError> {
        guard let value = body[name], value != .null else { return .success(nil) }
        guard let text = value.stringValue, !text.isEmpty else {
            return .failure(WireError(.invalidField, "body.\(name) must be a non-empty string", path: "body.\(name)"))
        }
        return .success(text)
    }

    /// `alerts.list`: `{"status": "firing"|"resolved"|"all", "department": "police", "event": "safety.*",
    /// "limit": 100, "offset": 0}`, newest first; `offset` pages through more than `limit`.
    func listAlerts(_ body: JSONObject, db: any SQLConnection) throws -> QueryResult {
        let status: String
        switch optionalString(body, "status") {
        case .failure(let error): return .failure(error)
        case .success(let value): status = value ?? "firing"
        }
        guard ["firing", "resolved", "all"].contains(status) else {
            return .failure(WireError(.invalidField, "body.status must be firing, resolved or all", path: "body.status"))
        }
        let department: String?
        switch optionalString(body, "department") {
        case .failure(let error): return .failure(error)
        case .success(let value): department = value
        }
        let event: String?
        switch optionalString(body, "event") {
        case .failure(let error): return .failure(error)
        case .success(let value): event = value
        }
        let count: Int
        switch limit(body, default: 100) {
        case .failure(let error): return .failure(error)
        case .success(let value): count = value
        }
        var offset = 0
        if let value = body["offset"] {
            guard let number = value.intValue, number >= 0 else {
                return .failure(WireError(.invalidField, "body.offset must be an integer of 0 or more", path: "body.offset"))
            }
            offset = Int(number)
        }
        var sql = "SELECT \(AlertRecord.columns) FROM alerts WHERE 1 = 1"
        var arguments: SQLArguments = []
        if status != "all" {
            sql += " AND status = ?"
            arguments += [status]
        }
        if let department {
            sql += " AND instr(departments, ?) > 0"
            arguments += [JSONWriter.string(.string(department))]
        }
        if let event {
            // An exact type, or a prefix such as `safety.*` (NamePattern).
            if let prefix = NamePattern.prefix(event) {
                sql += " AND instr(event, ?) = 1"
                arguments += [String(prefix)]
            } else {
                sql += " AND event = ?"
                arguments += [event]
            }
        }
        sql += " ORDER BY received_at DESC, alert_id LIMIT ? OFFSET ?"
        arguments += [count, offset]
        let alerts = try db.fetchAll(sql: sql, arguments: arguments).map { AlertRecord(row: $0).json }
        return .success(["alerts": .array(alerts)])
    }

    /// Finds an alert by id or by a unique prefix of at least 6 characters.
    private func resolveAlertID(_ text: String, db: any SQLConnection) throws -> Result<String, WireError> {
        guard text.utf8.count <= 64, text.utf8.allSatisfy({ (48...57).contains($0) || (97...122).contains($0) }) else {
            return .failure(
                WireError(.invalidField, "body.alert_id is an alert id such as a1b2c3d4e5f6a7b8", path: "body.alert_id"))
        }
        if try db.exists("SELECT 1 FROM alerts WHERE alert_id = ?", [text]) {
            return .success(text)
        }
        if text.utf8.count >= 6 {
            let matches = try db.strings("SELECT alert_id FROM alerts WHERE alert_id LIKE ? LIMIT 2", [text + "%"])
            if matches.count == 1 { return .success(matches[0]) }
            if matches.count > 1 {
                return .failure(
                    WireError(.invalidField, "\(text) is the start of several alert ids; give more of it", path: "body.alert_id"))
            }
        }
        return .failure(WireError(.unknownReference, "no alert has the id \(text); see alerts.list", path: "body.alert_id"))
    }

    /// `alerts.ack`: `{"alert_id": "...", "by": "张三"}`. Stops repeats and escalation of the alert.
    func ack(_ body: JSONObject, identity: String, db: any SQLConnection, now: Timestamp) throws -> QueryResult {
        guard let text = body["alert_id"]?.stringValue, !text.isEmpty else {
            return .failure(WireError(.invalidField, "body.alert_id is required", path: "body.alert_id"))
        }
        let by: String
        switch optionalString(body, "by") {
        case .failure(let error): return .failure(error)
        case .success(let value): by = value ?? identity
        }
        let alertID: String
        switch try resolveAlertID(text, db: db) {
        case .failure(let error): return .failure(error)
        case .success(let id): alertID = id
        }
        let already = try db.execute(
            sql: "UPDATE alerts SET acked_by = ?, acked_at = ? WHERE alert_id = ? AND acked_at IS NULL",
            arguments: [by, now.millis, alertID]) == 0
        let alert = try db.row("SELECT \(AlertRecord.columns) FROM alerts WHERE alert_id = ?", [alertID])
            .map(AlertRecord.init(row:))!
        return .success(["alert": alert.json, "already_acked": .bool(already)])
    }

    /// `alerts.failed`: the dead letters, newest first.
    func failed(_ body: JSONObject, db: any SQLConnection) throws -> QueryResult {
        let count: Int
        switch limit(body, default: 100) {
        case .failure(let error): return .failure(error)
        case .success(let value): count = value
        }
        let rows = try db.fetchAll(
            sql: """
                SELECT d.delivery_id, d.notification_id, d.department, d.target, d.attempts, d.last_error, d.created_at, d.finished_at,
                    n.payload FROM deliveries d JOIN notifications n ON n.notification_id = d.notification_id
                WHERE d.status = 'dead' ORDER BY d.finished_at DESC LIMIT ?
                """,
            arguments: [count])
        let deliveries: [JSONValue] = rows.map { row in
            let payload = (try? JSONParser.parse(row["payload"] as String)) ?? [:]
            let created: Int64 = row["created_at"]
            let finished: Int64? = row["finished_at"]
            return [
                "delivery_id": .string(row["delivery_id"]), "notification_id": .string(row["notification_id"]),
                "department": .string(row["department"]), "target": .string(row["target"]), "attempts": .int(row["attempts"]),
                "last_error": (row["last_error"] as String?).map { .string($0) } ?? .null,
                "created_at": .string(Timestamp(millis: created).description),
                "failed_at": finished.map { .string(Timestamp(millis: $0).description) } ?? .null,
                "alert_ids": payload["alert_ids"] ?? [], "summary": payload["summary"] ?? .null, "kind": payload["kind"] ?? .null,
            ]
        }
        return .success(["deliveries": .array(deliveries)])
    }

    /// `alerts.redrive`: `{}` (every dead letter), `{"alert_id": ...}` or `{"delivery_id": ...}`: back into the queue.
    func redrive(_ body: JSONObject, db: any SQLConnection, now: Timestamp, effects: inout Effects) throws -> QueryResult {
        var sql =
            """
            UPDATE deliveries SET status = 'pending', attempts = 0, started_attempts = 0, next_attempt_at = ?, finished_at = NULL
            WHERE status = 'dead'
            """
        var arguments: SQLArguments = [now.millis]
        if let text = body["alert_id"]?.stringValue {
            switch try resolveAlertID(text, db: db) {
            case .failure(let error): return .failure(error)
            case .success(let id):
                sql += " AND notification_id IN (SELECT notification_id FROM notification_alerts WHERE alert_id = ?)"
                arguments += [id]
            }
        } else if body["alert_id"] != nil {
            return .failure(WireError(.invalidField, "body.alert_id must be a string", path: "body.alert_id"))
        }
        if let delivery = body["delivery_id"] {
            guard let text = delivery.stringValue else {
                return .failure(WireError(.invalidField, "body.delivery_id must be a string", path: "body.delivery_id"))
            }
            sql += " AND delivery_id = ?"
            arguments += [text]
        }
        let count = try db.execute(sql: sql, arguments: arguments)
        effects.deliveriesCreated += count
        return .success(["redriven": .int(Int64(count))])
    }

    /// `silences.add`: `{"matchers": {"town": "dongcheng", "event": "safety.*"}, "until": RFC 3339, "comment": "..."}`
    /// (or `"duration_seconds"` instead of `until`; optional `"starts"`, `"by"`).
    func addSilence(_ body: JSONObject, identity: String, db: any SQLConnection, now: Timestamp) throws -> QueryResult {
        guard let matchersObject = body["matchers"]?.objectValue, matchersObject.count > 0 else {
            return .failure(
                WireError(.invalidField, "body.matchers must be a non-empty object of label patterns", path: "body.matchers"))
        }
        let matcher: Matcher
        switch Matcher.parse(matchersObject, path: "body.matchers") {
        case .failure(let error): return .failure(error)
        case .success(let parsed): matcher = parsed
        }
        var starts = now
        if let text = body["starts"]?.stringValue {
            guard let parsed = Timestamp(rfc3339: text) else {
                return .failure(WireError(.invalidField, "body.starts must be an RFC 3339 time", path: "body.starts"))
            }
            starts = parsed
        }
        let ends: Timestamp
        if let text = body["until"]?.stringValue {
            guard let parsed = Timestamp(rfc3339: text) else {
                return .failure(
                    WireError(
                        .invalidField, "body.until must be an RFC 3339 time such as 2026-12-01T18:00:00+08:00", path: "body.until"
                    ))
            }
            ends = parsed
        } else if let seconds = body["duration_seconds"]?.doubleValue, seconds > 0 {
            ends = starts.adding(seconds: seconds)
        } else {
            return .failure(
                WireError(.invalidField, "a silence needs body.until (RFC 3339) or body.duration_seconds > 0", path: "body.until")
            )
        }
        guard ends > now, ends > starts else {
            return .failure(WireError(.invalidField, "body.until must be in the future and after the start", path: "body.until"))
        }
        let comment: String
        switch optionalString(body, "comment") {
        case .failure(let error): return .failure(error)
        case .success(let value): comment = value ?? ""
        }
        let by: String
        switch optionalString(body, "by") {
        case .failure(let error): return .failure(error)
        case .success(let value): by = value ?? identity
        }
        let matchersText = JSONWriter.string(matcher.json)
        let id = Hex.stableID(
            "s", [matchersText, String(starts.millis), String(ends.millis), comment, by, String(now.millis)], length: 11)
        try db.execute(
            sql: """
                INSERT INTO silences (silence_id, matchers, starts_at, ends_at, comment, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """,
            arguments: [id, matchersText, starts.millis, ends.millis, comment, by, now.millis])
        return .success(["silence": try silenceJSON(id, db: db, now: now)])
    }

    private func silenceJSON(_ id: String, db: any SQLConnection, now: Timestamp) throws -> JSONValue {
        guard let row = try db.row("SELECT * FROM silences WHERE silence_id = ?", [id]) else {
            return .null
        }
        return Self.silenceJSON(row, now: now)
    }

    private static func silenceJSON(_ row: SQLRow, now: Timestamp) -> JSONValue {
        let starts: Int64 = row["starts_at"]
        let ends: Int64 = row["ends_at"]
        let created: Int64 = row["created_at"]
        return [
            "silence_id": .string(row["silence_id"]), "matchers": (try? JSONParser.parse(row["matchers"] as String)) ?? [:],
            "starts_at": .string(Timestamp(millis: starts).description), "ends_at": .string(Timestamp(millis: ends).description),
            "comment": .string(row["comment"]), "created_by": .string(row["created_by"]),
            "created_at": .string(Timestamp(millis: created).description),
            "active": .bool(starts <= now.millis && now.millis < ends),
        ]
    }

    /// `silences.list`: silences not yet ended (`{"all": true}`: also the ended ones still kept).
    func listSilences(_ body: JSONObject, db: any SQLConnection, now: Timestamp) throws -> QueryResult {
        let all = body["all"]?.boolValue ?? false
        let rows = try db.fetchAll(sql: "SELECT * FROM silences WHERE ? = 1 OR ends_at > ? ORDER BY ends_at DESC", arguments: [all, now.millis])
        return .success(["silences": .array(rows.map { Self.silenceJSON($0, now: now) })])
    }

    /// `silences.expire`: `{"silence_id": "..."}` ends a silence now.
    func expireSilence(_ body: JSONObject, db: any SQLConnection, now: Timestamp, effects: inout Effects) throws -> QueryResult {
        guard let id = body["silence_id"]?.stringValue else {
            return .failure(WireError(.invalidField, "body.silence_id is required", path: "body.silence_id"))
        }
        try db.execute(
            sql: "UPDATE silences SET ends_at = ? WHERE silence_id = ? AND ends_at > ?", arguments: [now.millis, id, now.millis])
        guard try db.exists("SELECT 1 FROM silences WHERE silence_id = ?", [id]) else {
            return .failure(
                WireError(.unknownReference, "no silence has the id \(id); see silences.list", path: "body.silence_id"))
        }
        try tick(db: db, now: now, effects: &effects)
        return .success(["silence": try silenceJSON(id, db: db, now: now)])
    }

    /// `notify.status`: counts of alerts, deliveries, groups and silences.
    func status(db: any SQLConnection, now: Timestamp) throws -> JSONValue {
        func count(_ sql: String, _ arguments: SQLArguments = []) throws -> JSONValue {
            .int(Int64(try db.int(sql, arguments)))
        }
        return [
            "alerts_firing": try count("SELECT COUNT(*) FROM alerts WHERE status = 'firing'"),
            "alerts_total": try count("SELECT COUNT(*) FROM alerts"),
            "groups_waiting": try count("SELECT COUNT(*) FROM groups WHERE next_flush_at IS NOT NULL"),
            "notifications": try count("SELECT COUNT(*) FROM notifications"),
            "deliveries_pending": try count("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"),
            "deliveries_delivered": try count("SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'"),
            "deliveries_dead": try count("SELECT COUNT(*) FROM deliveries WHERE status = 'dead'"),
            "silences_active": try count(
                "SELECT COUNT(*) FROM silences WHERE starts_at <= ? AND ends_at > ?", [now.millis, now.millis]),
        ]
    }
}
