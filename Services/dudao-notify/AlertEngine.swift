import DudaoCore
import Foundation
import DudaoService
import DudaoStorage

/// The alerting state machine. Every call runs inside a write transaction handed to it by
/// ``NotifyWriter`` with the batch's `now`, so the effects of an event (the alert, its place in
/// every receiver's group, and the deliveries a flush creates) commit together.
final class AlertEngine: Sendable {
    /// The routes file and the messages it shapes; a reload replaces both together.
    private let live: Reloadable<(routes: Routes, message: AlertMessage)>
    let displayOffsetMinutes: Int
    var routes: Routes { live.current.routes }
    var message: AlertMessage { live.current.message }
    let retry: RetryPolicy
    let dedupeWindowMillis: Int64
    let historyMillis: Int64

    /// What a batch did that others must hear about.
    struct Effects {
        /// Some group may be due: flush before committing.
        var touchedGroups = false
        /// New deliveries were queued: wake the dispatcher.
        var deliveriesCreated = 0
    }

    enum EventOutcome: Sendable, Equatable { case accepted, duplicate }

    static let memberColumns = AlertRecord.columns(alias: "a") + ", m.notified"

    /// The open write transaction every call runs in.
    typealias Transaction = any SQLConnection

    init(routes: Routes, retry: RetryPolicy, dedupeWindowMillis: Int64, historyMillis: Int64, displayOffsetMinutes: Int) {
        self.live = Reloadable((routes, AlertMessage(routes: routes, time: LocalTime(offsetMinutes: displayOffsetMinutes))))
        self.displayOffsetMinutes = displayOffsetMinutes
        self.retry = retry
        self.dedupeWindowMillis = dedupeWindowMillis
        self.historyMillis = historyMillis
    }

    /// A reloaded routes file: alerts routed from now on follow it; queued deliveries keep their
    /// department and are sent over its channels as they are now.
    func replaceRoutes(_ routes: Routes) {
        live.replace((routes, AlertMessage(routes: routes, time: LocalTime(offsetMinutes: displayOffsetMinutes))))
    }

    // MARK: events

    /// Applies one event: dedupe on (sender, id), then start, refresh or resolve the alert of its key.
    func apply(_ event: AlertEvent, sender: String, db: any SQLConnection, now: Timestamp, effects: inout Effects) throws -> EventOutcome {
        if try db.exists("SELECT 1 FROM events WHERE sender = ? AND event_id = ?", [sender, event.id]) {
            return .duplicate
        }
        let current = try db.row(
            "SELECT \(AlertRecord.columns) FROM alerts WHERE alert_key = ? AND status = 'firing'",
            [event.alertKey]
        ).map(AlertRecord.init(row:))
        let detailsText = JSONWriter.string(.object(event.details))
        var alertID: String?
        if event.status == .firing {
            if let current {
                try db.run(
                    """
                    UPDATE alerts SET summary = ?, details = ?, severity = ?, last_at = CASE WHEN last_at > ? THEN last_at ELSE ? END, events = events + 1
                    WHERE alert_id = ?
                    """, [event.summary, detailsText, event.severity.rawValue, event.at.millis, event.at.millis, current.alertID])
                alertID = current.alertID
            } else {
                var id = Hex.stableID("a", [sender, event.alertKey, event.id])
                if try db.exists("SELECT 1 FROM alerts WHERE alert_id = ?", [id]) {
                    // The same event id re-sent after its dedupe entry expired: a new episode all the same.
                    id = Hex.stableID("a", [sender, event.alertKey, event.id, String(now.millis)])
                }
                let labels = AlertLabels(
                    event: event.type.rawValue, severity: event.severity.rawValue, scope: event.scope, town: event.townID,
                    institution: event.institutionID, device: event.deviceID, indicator: event.indicator, alertKey: event.alertKey
                )
                let targets = routes.targets(for: labels)
                let departments = JSONWriter.string(.array(targets.map { .string($0.department) }))
                try db.run(
                    """
                    INSERT INTO alerts (alert_id, alert_key, event, severity, status, scope, town, institution, device, indicator,
                        summary, details, departments, first_event, first_at, last_at, received_at)
                    VALUES (?, ?, ?, ?, 'firing', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        id, event.alertKey, event.type.rawValue, event.severity.rawValue, event.scope, event.townID, event.institutionID,
                        event.deviceID,
                        event.indicator, event.summary, detailsText, departments, event.id, event.at.millis, event.at.millis,
                        now.millis,
                    ])
                for target in targets {
                    try addMember(alertID: id, labels: labels, target: target, db: db, now: now)
                }
                effects.touchedGroups = true
                alertID = id
            }
        } else if let current {
            try db.run(
                """
                UPDATE alerts SET status = 'resolved', resolved_at = ?, resolved_summary = ?, resolved_event = ?,
                    last_at = CASE WHEN last_at > ? THEN last_at ELSE ? END, events = events + 1 WHERE alert_id = ?
                """, [event.at.millis, event.summary, event.type.rawValue, event.at.millis, event.at.millis, current.alertID])
            try memberResolved(current, db: db, now: now)
            effects.touchedGroups = true
            alertID = current.alertID
        }
        try db.run(
            "INSERT INTO events (sender, event_id, type, alert_id, received_at, body) VALUES (?, ?, ?, ?, ?, ?)",
            [sender, event.id, event.type.rawValue, alertID, now.millis, JSONWriter.string(.object(event.body))])
        return .accepted
    }

    /// Puts a new alert into the group of `target`'s department and schedules the group's next message.
    private func addMember(alertID: String, labels: AlertLabels, target: Routes.Target, db: any SQLConnection, now: Timestamp) throws {
        var groupLabels = JSONObject()
        for name in target.settings.groupBy { groupLabels[name] = labels[name].map { .string($0) } ?? .null }
        let labelsText = JSONWriter.string(.object(groupLabels))
        let groupID = Hex.stableID("g", [target.department, String(target.route), labelsText])
        let settings = target.settings
        let row = try db.row("SELECT next_flush_at, last_sent_at, group_interval FROM groups WHERE group_id = ?", [groupID])
        let waitDue = now.adding(seconds: settings.groupWait).millis
        if let row {
            let members = try db.int("SELECT COUNT(*) FROM group_members WHERE group_id = ?", [groupID])
            let existing: Int64? = row["next_flush_at"]
            let lastSent: Int64? = row["last_sent_at"]
            var due: Int64
            if members == 0 || lastSent == nil {
                due = waitDue
            } else {
                due = max(now.millis, lastSent! + Int64(settings.groupInterval * 1000))
            }
            if let existing { due = min(due, existing) }
            try db.run(
                """
                UPDATE groups SET next_flush_at = ?, group_wait = ?, group_interval = ?, repeat_interval = ?, send_resolved = ?
                WHERE group_id = ?
                """, [due, settings.groupWait, settings.groupInterval, settings.repeatInterval, settings.sendResolved, groupID])
        } else {
            try db.run(
                """
                INSERT INTO groups (group_id, department, labels, group_wait, group_interval, repeat_interval, send_resolved, next_flush_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    groupID, target.department, labelsText, settings.groupWait, settings.groupInterval, settings.repeatInterval,
                    settings.sendResolved, waitDue,
                ])
        }
        try db.run("INSERT INTO group_members (group_id, alert_id, notified) VALUES (?, ?, NULL) ON CONFLICT DO NOTHING", [groupID, alertID])
    }

    /// An alert resolved: groups that told someone it fires will tell them it stopped.
    private func memberResolved(_ alert: AlertRecord, db: any SQLConnection, now: Timestamp) throws {
        let rows = try db.rows(
            """
            SELECT m.group_id, m.notified, g.send_resolved, g.last_sent_at, g.group_interval, g.next_flush_at
            FROM group_members m JOIN groups g ON g.group_id = m.group_id WHERE m.alert_id = ?
            """,
            [alert.alertID])
        for row in rows {
            let groupID: String = row["group_id"]
            let notified: String? = row["notified"]
            let sendResolved: Bool = row["send_resolved"]
            if notified == "firing", sendResolved {
                let lastSent: Int64 = row["last_sent_at"] ?? now.millis
                let interval: Double = row["group_interval"]
                var due = max(now.millis, lastSent + Int64(interval * 1000))
                if let existing: Int64 = row["next_flush_at"] { due = min(due, existing) }
                try db.run("UPDATE groups SET next_flush_at = ? WHERE group_id = ?", [due, groupID])
            } else {
                // Never told anyone (still in its group wait, or muted): it goes quietly.
                try db.run("DELETE FROM group_members WHERE group_id = ? AND alert_id = ?", [groupID, alert.alertID])
                try db.run(
                    "UPDATE groups SET next_flush_at = COALESCE(next_flush_at, ?) WHERE group_id = ?", [now.millis, groupID])
            }
        }
        // A source of inhibition ended: what it hid may be due now.
        if routes.inhibit.contains(where: { $0.source.matches(alert.labels) }) {
            try db.run(
                """
                UPDATE groups SET next_flush_at = ? WHERE (next_flush_at IS NULL OR next_flush_at > ?) AND group_id IN (
                    SELECT m.group_id FROM group_members m JOIN alerts a ON a.alert_id = m.alert_id
                    WHERE a.status = 'firing' AND a.inhibited = 1)
                """, [now.millis, now.millis])
        }
    }

    // MARK: timers

    /// Everything time-driven: silences that expired, groups due, escalations.
    func tick(db: any SQLConnection, now: Timestamp, effects: inout Effects) throws {
        let expired = try db.strings("SELECT silence_id FROM silences WHERE ends_at <= ? AND expiry_handled = 0", [now.millis])
        if !expired.isEmpty {
            for id in expired {
                try db.run("UPDATE silences SET expiry_handled = 1 WHERE silence_id = ?", [id])
            }
            // What the silences hid and still fires is told now.
            try db.run(
                """
                UPDATE groups SET next_flush_at = ? WHERE (next_flush_at IS NULL OR next_flush_at > ?) AND group_id IN (
                    SELECT m.group_id FROM group_members m JOIN alerts a ON a.alert_id = m.alert_id
                    WHERE a.status = 'firing' AND a.silenced_by IS NOT NULL)
                """, [now.millis, now.millis])
        }
        try flushDue(db: db, now: now, effects: &effects)
        try escalate(db: db, now: now, effects: &effects)
    }

    /// Sends every group whose wait, interval or repeat time has come.
    func flushDue(db: any SQLConnection, now: Timestamp, effects: inout Effects) throws {
        let due = try db.strings(
            "SELECT group_id FROM groups WHERE next_flush_at <= ? UNION SELECT group_id FROM groups WHERE repeat_at <= ?",
            [now.millis, now.millis])
        guard !due.isEmpty else { return }
        let mute = try MuteState(db: db, now: now, rules: routes.inhibit)
        for groupID in due { try flush(groupID: groupID, mute: mute, db: db, now: now, effects: &effects) }
    }

    private func flush(groupID: String, mute: MuteState, db: any SQLConnection, now: Timestamp, effects: inout Effects) throws {
        guard
            let group = try db.row("SELECT department, repeat_interval, send_resolved FROM groups WHERE group_id = ?", [groupID])
        else { return }
        let department: String = group["department"]
        let repeatInterval: Double = group["repeat_interval"]
        let sendResolved: Bool = group["send_resolved"]
        let rows = try db.rows(
            """
            SELECT \(Self.memberColumns)
            FROM group_members m JOIN alerts a ON a.alert_id = m.alert_id WHERE m.group_id = ? ORDER BY a.first_at, a.alert_id
            """,
            [groupID])
        var firing: [AlertRecord] = []
        var resolved: [AlertRecord] = []
        var drop: [String] = []
        for row in rows {
            let alert = AlertRecord(row: row)
            let notified: String? = row[AlertRecord.columnCount]
            if alert.isFiring {
                let silence = mute.silence(for: alert.labels)
                let inhibited = mute.isInhibited(alert.labels)
                if silence != alert.silencedBy || inhibited != alert.inhibited {
                    try db.run(
                        "UPDATE alerts SET silenced_by = ?, inhibited = ? WHERE alert_id = ?",
                        [silence, inhibited, alert.alertID])
                }
                if silence != nil || inhibited { continue }
                // Acknowledged: no more repeats (it was told once).
                if alert.ackedAt != nil, notified == "firing" { continue }
                firing.append(alert)
            } else if notified == "firing", sendResolved {
                resolved.append(alert)
            } else {
                drop.append(alert.alertID)
            }
        }
        for id in drop {
            try db.run("DELETE FROM group_members WHERE group_id = ? AND alert_id = ?", [groupID, id])
        }
        if firing.isEmpty && resolved.isEmpty {
            try finishGroup(groupID, db: db, update: "next_flush_at = NULL, repeat_at = NULL", arguments: [])
            return
        }
        let notificationID = try insertNotification(
            groupID: groupID, department: department, kind: "alert", alertIDs: (firing + resolved).map(\.alertID), db: db,
            now: now,
            effects: &effects
        ) { id in
            message.payload(notificationID: id, department: department, firing: firing, resolved: resolved, createdAt: now.millis)
        }
        _ = notificationID
        for alert in firing {
            try db.run(
                "UPDATE group_members SET notified = 'firing' WHERE group_id = ? AND alert_id = ?", [groupID, alert.alertID])
            try db.run(
                "UPDATE alerts SET notified_at = COALESCE(notified_at, ?) WHERE alert_id = ?", [now.millis, alert.alertID])
        }
        for alert in resolved {
            try db.run("DELETE FROM group_members WHERE group_id = ? AND alert_id = ?", [groupID, alert.alertID])
        }
        let repeatAt: Int64? = firing.isEmpty ? nil : now.adding(seconds: repeatInterval).millis
        try finishGroup(
            groupID, db: db, update: "next_flush_at = NULL, repeat_at = ?, last_sent_at = ?, sent = sent + 1",
            arguments: [repeatAt, now.millis])
    }

    /// Updates a flushed group, or deletes it when nothing is left in it.
    private func finishGroup(_ groupID: String, db: any SQLConnection, update: String, arguments: SQLArguments) throws {
        let remaining = try db.int("SELECT COUNT(*) FROM group_members WHERE group_id = ?", [groupID])
        if remaining == 0 {
            try db.run("DELETE FROM groups WHERE group_id = ?", [groupID])
        } else {
            try db.run("UPDATE groups SET \(update) WHERE group_id = ?", arguments + [groupID])
        }
    }

    /// Stores a message and queues one delivery per channel of its department.
    @discardableResult
    private func insertNotification(
        groupID: String, department: String, kind: String, alertIDs: [String], db: any SQLConnection, now: Timestamp,
        effects: inout Effects, payload: (String) -> JSONObject
    ) throws -> String {
        let seq = try db.value(
            Int64.self,
            "INSERT INTO notifications (notification_id, group_id, department, kind, created_at, payload) VALUES (?, ?, ?, ?, ?, '') RETURNING seq",
            ["pending-\(groupID)", groupID, department, kind, now.millis])!
        let notificationID = "n\(seq)"
        try db.run(
            "UPDATE notifications SET notification_id = ?, payload = ? WHERE seq = ?",
            [notificationID, JSONWriter.string(.object(payload(notificationID))), seq])
        for alertID in alertIDs {
            try db.run(
                "INSERT INTO notification_alerts (notification_id, alert_id) VALUES (?, ?) ON CONFLICT DO NOTHING", [notificationID, alertID])
        }
        for (index, channel) in (routes.department(department)?.channels ?? []).enumerated() {
            try db.run(
                """
                INSERT INTO deliveries (delivery_id, notification_id, department, channel, target, status, attempts, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)
                """, ["\(notificationID).\(index)", notificationID, department, index, channel.target, now.millis, now.millis])
            effects.deliveriesCreated += 1
        }
        return notificationID
    }

    /// Critical alerts nobody acknowledged in time go to the leading group office.
    private func escalate(db: any SQLConnection, now: Timestamp, effects: inout Effects) throws {
        guard let rule = routes.escalation else { return }
        let cutoff = now.adding(seconds: -rule.afterSeconds).millis
        let placeholders = rule.severities.map { _ in "?" }.joined(separator: ", ")
        var arguments: SQLArguments = [cutoff]
        for severity in rule.severities { arguments += [severity] }
        let alerts = try db.rows(
            """
            SELECT \(AlertRecord.columns) FROM alerts WHERE status = 'firing' AND acked_at IS NULL AND escalated_at IS NULL
            AND notified_at IS NOT NULL AND notified_at <= ? AND severity IN (\(placeholders)) AND silenced_by IS NULL AND inhibited = 0
            """,
            arguments
        ).map(AlertRecord.init(row:))
        guard !alerts.isEmpty else { return }
        // Silences and inhibition as they are now, not as at the alert's last message.
        let mute = try MuteState(db: db, now: now, rules: routes.inhibit)
        for alert in alerts where mute.silence(for: alert.labels) == nil && !mute.isInhibited(alert.labels) {
            for department in rule.to {
                try insertNotification(
                    groupID: "escalation:\(alert.alertID)", department: department, kind: "escalation", alertIDs: [alert.alertID],
                    db: db,
                    now: now, effects: &effects
                ) { id in
                    message.escalation(
                        notificationID: id, department: department, alert: alert, afterSeconds: rule.afterSeconds,
                        createdAt: now.millis)
                }
            }
            try db.run("UPDATE alerts SET escalated_at = ? WHERE alert_id = ?", [now.millis, alert.alertID])
        }
    }
}
