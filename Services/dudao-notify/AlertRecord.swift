import DudaoCore
import Foundation
import DudaoStorage

/// One alert: an episode of the condition named by `alert_key`, from its first firing event to
/// its resolution.
struct AlertRecord: Sendable {
    var alertID: String
    var alertKey: String
    var event: String
    var severity: String
    var status: String
    var scope: String
    var town: String?
    var institution: String?
    var device: String?
    var indicator: String?
    var summary: String
    var details: JSONObject
    var departments: [String]
    var firstEvent: String
    /// Event times (when it happened, as the sender said).
    var firstAt: Int64
    var lastAt: Int64
    var receivedAt: Int64
    var resolvedAt: Int64?
    var resolvedSummary: String?
    /// The type of the event that resolved it (`safety.device_online`), `nil` while firing.
    var resolvedEvent: String?
    var events: Int64
    var notifiedAt: Int64?
    var ackedBy: String?
    var ackedAt: Int64?
    var escalatedAt: Int64?
    var silencedBy: String?
    var inhibited: Bool

    static let columns = """
        alert_id, alert_key, event, severity, status, scope, town, institution, device, indicator, summary, details, \
        departments, first_event, first_at, last_at, received_at, resolved_at, resolved_summary, events, notified_at, acked_by, \
        acked_at, escalated_at, silenced_by, inhibited, resolved_event
        """

    /// `columns` with a table alias (`a.alert_id, a.alert_key, ...`).
    static func columns(alias: String) -> String {
        columns.split(separator: ",").map { "\(alias).\($0.trimmingCharacters(in: .whitespacesAndNewlines))" }.joined(
            separator: ", ")
    }

    /// Reads a row whose first columns are `columns`, in that order (by index: it is the hot path).
    init(row: SQLRow) {
        alertID = row[0]
        alertKey = row[1]
        event = row[2]
        severity = row[3]
        status = row[4]
        scope = row[5]
        town = row[6]
        institution = row[7]
        device = row[8]
        indicator = row[9]
        summary = row[10]
        let detailsText: String = row[11]
        details = (try? JSONParser.parse(detailsText))?.objectValue ?? [:]
        let departmentsText: String = row[12]
        departments = (try? JSONParser.parse(departmentsText))?.arrayValue?.compactMap(\.stringValue) ?? []
        firstEvent = row[13]
        firstAt = row[14]
        lastAt = row[15]
        receivedAt = row[16]
        resolvedAt = row[17]
        resolvedSummary = row[18]
        events = row[19]
        notifiedAt = row[20]
        ackedBy = row[21]
        ackedAt = row[22]
        escalatedAt = row[23]
        silencedBy = row[24]
        inhibited = row[25]
        resolvedEvent = row[26]
    }

    /// The number of columns `init(row:)` reads.
    static let columnCount = 27

    var labels: AlertLabels {
        AlertLabels(
            event: event, severity: severity, scope: scope, town: town, institution: institution, device: device,
            indicator: indicator, alertKey: alertKey)
    }

    var isFiring: Bool { status == "firing" }

    /// The event a message about this alert names: the resolving event's type once resolved.
    var currentEvent: String { isFiring ? event : (resolvedEvent ?? event) }

    /// The alert as `alerts.list` shows it.
    var json: JSONValue {
        func time(_ millis: Int64?) -> JSONValue { millis.map { .string(Timestamp(millis: $0).description) } ?? .null }
        func text(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        return [
            "alert_id": .string(alertID), "event": .string(event), "severity": .string(severity), "status": .string(status),
            "alert_key": .string(alertKey), "scope": .string(scope), "town_id": text(town), "institution_id": text(institution),
            "device_id": text(device), "indicator": text(indicator), "summary": .string(summary),
            "resolved_summary": text(resolvedSummary), "resolved_event": text(resolvedEvent), "details": .object(details),
            "departments": .array(departments.map { .string($0) }), "first_at": time(firstAt), "last_at": time(lastAt),
            "resolved_at": time(resolvedAt), "events": .int(events), "notified_at": time(notifiedAt), "acked_by": text(ackedBy),
            "acked_at": time(ackedAt), "escalated_at": time(escalatedAt), "silenced_by": text(silencedBy),
            "inhibited": .bool(inhibited),
        ]
    }
}
