import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import DudaoStorage
import DudaoWire
import Logging

/// Reminders and alerts for reports not sent, through dudao-notify: per report, year and town,
///
/// - within `remind_days` before the due date, while institutions of the town have not sent it:
///   `data.due_soon` (info, firing), once;
/// - after the due date, while they still have not: `data.overdue` (warning, firing) on the same
///   alert key, once — the reminder's alert escalates;
/// - once every institution of the town has sent it, after either: `data.complete` (info,
///   resolved).
///
/// Alert key `data:<type>:<year>:<town>`, scope `town:<id>` (routes send it to the town and the
/// education bureau). Where each stands is kept in the `reminders` table and changed in the
/// transaction that queues the event, so a check after a restart raises nothing twice.
extension IndicatorsModel {
    enum ReminderState: String {
        case none, reminded, overdue, complete
    }

    /// Checks the reports of the current year at `now`; returns the events queued.
    @discardableResult
    func checkReporting(now: Timestamp) throws -> Int {
        let year = currentYear(at: now)
        var changes: [(type: String, town: String, state: ReminderState, event: AlertEvent)] = []
        let known = try store.database.read { db in
            var states: [String: ReminderState] = [:]
            for row in try db.rows("SELECT type, town, state FROM reminders WHERE year = ?", [year]) {
                let type: String = row[0]
                let town: String = row[1]
                states[type + "|" + town] = ReminderState(rawValue: row[2]) ?? ReminderState.none
            }
            return states
        }
        for feed in schedule.feeds {
            let due = feed.dueDate(year: year)
            let remindFrom = due.millis - Int64(feed.remindDays) * 86_400_000
            let reports = reports(feed, year: year)
            for town in Set(reports.map(\.town)).sorted() {
                let local = reports.filter { $0.town == town }
                let missing = local.filter { $0.firstReceived == nil }.map(\.institution)
                let state = known[feed.type.rawValue + "|" + town] ?? ReminderState.none
                let next: (ReminderState, AlertEventType)?
                if missing.isEmpty {
                    next = state == .reminded || state == .overdue ? (.complete, .dataComplete) : nil
                } else if now > due {
                    next = state != .overdue ? (.overdue, .dataOverdue) : nil
                } else if now.millis >= remindFrom {
                    next = state == .none || state == .complete ? (.reminded, .dataDueSoon) : nil
                } else {
                    next = nil
                }
                guard let (newState, type) = next else { continue }
                let event = reminderEvent(
                    type, feed: feed, year: year, town: town, due: due, missing: missing, expected: local.count, at: now)
                changes.append((feed.type.rawValue, town, newState, event))
            }
        }
        // Projects past their due date and not done: one alert each, ended when done.
        let behind = Set(projectsBehind(at: now).map(\.projectID))
        let projectStates = try store.database.read { db in
            var states: [String: ReminderState] = [:]
            for row in try db.rows("SELECT town, state FROM reminders WHERE type = 'project.progress' AND year = 0") {
                let id: String = row[0]
                states[id] = ReminderState(rawValue: row[1]) ?? ReminderState.none
            }
            return states
        }
        var projectChanges: [(id: String, state: ReminderState, event: AlertEvent)] = []
        for project in projects {
            let state = projectStates[project.projectID] ?? ReminderState.none
            if behind.contains(project.projectID), state != .overdue {
                projectChanges.append((project.projectID, .overdue, projectEvent(.projectBehind, project, at: now)))
            } else if !behind.contains(project.projectID), state == .overdue {
                projectChanges.append((project.projectID, .complete, projectEvent(.projectDone, project, at: now)))
            }
        }
        guard !changes.isEmpty || !projectChanges.isEmpty else { return 0 }
        try store.database.write { db in
            for change in changes {
                try db.run(
                    "INSERT INTO reminders (type, year, town, state) VALUES (?, ?, ?, ?) "
                        + "ON CONFLICT (type, year, town) DO UPDATE SET state = excluded.state",
                    [change.type, year, change.town, change.state.rawValue])
                try Outbox.enqueue(db, id: change.event.id, frame: change.event.frame, now: now)
            }
            for change in projectChanges {
                try db.run(
                    "INSERT INTO reminders (type, year, town, state) VALUES ('project.progress', 0, ?, ?) "
                        + "ON CONFLICT (type, year, town) DO UPDATE SET state = excluded.state",
                    [change.id, change.state.rawValue])
                try Outbox.enqueue(db, id: change.event.id, frame: change.event.frame, now: now)
            }
        }
        logger.info("reporting reminders", metadata: ["events": "\(changes.count + projectChanges.count)", "year": "\(year)"])
        return changes.count + projectChanges.count
    }

    /// `恩平市实验幼儿园新建工程 已超过完工日期 2024-08-31，状态 在建，已交付学位 0/500`.
    func projectEvent(_ type: AlertEventType, _ project: ProjectProgress, at now: Timestamp) -> AlertEvent {
        let status = FeedSheet.choiceZh(project.status.rawValue) ?? project.status.rawValue
        let summary =
            type == .projectBehind
            ? "\(project.name) 已超过完工日期 \(project.due)，状态 \(status)，已交付学位 \(project.seatsDelivered)/\(project.seatsPlanned)"
            : "\(project.name) 已完成，交付学位 \(project.seatsDelivered)/\(project.seatsPlanned)"
        return AlertEvent(
            type: type, id: type == .projectBehind ? "project:behind:\(project.projectID):\(project.due)" : "project:done:\(project.projectID):\(now.millis)",
            severity: type == .projectBehind ? .warning : .info, alertKey: "project:\(project.projectID)",
            status: type == .projectBehind ? .firing : .resolved, scope: "city", summary: summary,
            details: [
                "project_id": .string(project.projectID), "project_name": .string(project.name), "kind": .string(project.kind.rawValue),
                "due": .string(project.due), "status": .string(project.status.rawValue), "seats_planned": .int(project.seatsPlanned),
                "seats_delivered": .int(project.seatsDelivered),
                "departments": ["natural_resources", "housing", "development"],
            ],
            at: now)
    }

    /// `东成镇 幼儿园普查（2025年）已逾期（截止 2025-09-30）：尚有 2 所未报送：园A、园B`.
    func reminderEvent(
        _ type: AlertEventType, feed: ReportingSchedule.Feed, year: Int, town: String, due: Timestamp, missing: [String], expected: Int,
        at now: Timestamp
    ) -> AlertEvent {
        let townName = names.towns[town] ?? town
        let title = FeedSheet.of(feed.type).titleZh
        let dueDay = feed.dueByYear[year] ?? "\(year)-\(feed.due)"
        let names = missing.map { self.names.institutions[$0]?.name ?? $0 }
        let listed = names.prefix(10).joined(separator: "、") + (names.count > 10 ? " 等" : "")
        let summary: String
        switch type {
        case .dataDueSoon: summary = "\(townName) \(title)（\(year)年）将于 \(dueDay) 截止，尚有 \(missing.count) 所未报送：\(listed)"
        case .dataOverdue: summary = "\(townName) \(title)（\(year)年）已逾期（截止 \(dueDay)），尚有 \(missing.count) 所未报送：\(listed)"
        default: summary = "\(townName) \(title)（\(year)年）已全部报送（\(expected) 所）"
        }
        let stem = "\(feed.type.rawValue):\(year):\(town)"
        // The check's time in the id: the event and its state change are committed together, so
        // a restart never raises it again, and a second episode (a town complete, then owing
        // again for an institution registered later) is a new event, not a duplicate.
        let id: String
        switch type {
        case .dataDueSoon: id = "data:due_soon:\(stem):\(now.millis)"
        case .dataOverdue: id = "data:overdue:\(stem):\(now.millis)"
        default: id = "data:complete:\(stem):\(now.millis)"
        }
        return AlertEvent(
            type: type, id: id, severity: type == .dataOverdue ? .warning : .info, alertKey: "data:\(stem)",
            status: type == .dataComplete ? .resolved : .firing, scope: "town:\(town)", townID: town, summary: summary,
            details: [
                "report_type": .string(feed.type.rawValue), "report_name": .string(title), "year": .int(Int64(year)),
                "due": .string(due.description), "expected": .int(Int64(expected)), "missing": .int(Int64(missing.count)),
                "missing_institutions": .array(missing.map { .string($0) }), "town_name": .string(townName),
            ],
            at: now)
    }
}
