import DudaoCore
import Foundation

/// Builds what a department receives: the JSON payload of SPEC section 5 with a one-line
/// Chinese `summary` and a `message` a person reads top to bottom (what, where, value vs
/// target, since when, clause, and how to acknowledge).
struct AlertMessage: Sendable {
    let routes: Routes
    let time: LocalTime

    /// Members listed one by one in a grouped message; the rest are counted.
    static let listedMembers = 20
    /// Members carried in `details.alerts` of a grouped payload.
    static let detailedMembers = 500

    func eventName(_ type: String) -> String { AlertEventType(rawValue: type)?.nameZh ?? type }

    static func severityName(_ severity: String) -> String { AlertSeverity(rawValue: severity)?.nameZh ?? severity }

    /// Where an alert is, for people: `东成镇中心幼儿园（东成镇）`, `东成镇`, `全市`.
    func place(_ alert: AlertRecord) -> String {
        let town = alert.town.map { routes.townNames[$0] ?? alert.details["town_name"]?.stringValue ?? $0 }
        if let institution = alert.institution {
            let name = alert.details["institution_name"]?.stringValue ?? institution
            return town.map { "\(name)（\($0)）" } ?? name
        }
        if let town { return town }
        if alert.scope == "city" { return "全市" }
        return alert.scope
    }

    /// `92.5%，目标 ≥ 100%`, when the details carry a value and a target.
    func valueLine(_ details: JSONObject) -> String? {
        guard let value = details["value"], value != .null else { return nil }
        let unit = details["unit"]?.stringValue ?? ""
        func number(_ v: JSONValue) -> String {
            switch v {
            case .int(let i): return String(i)
            case .double(let d):
                let rounded = (d * 100).rounded() / 100
                return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
            case .string(let s): return s
            default: return JSONWriter.string(v)
            }
        }
        var line = "\(number(value))\(unit)"
        if let target = details["target"], target != .null {
            let op = details["op"]?.stringValue.map { ["<=": "≤", ">=": "≥"][$0] ?? $0 } ?? ""
            line += "，目标 \(op) \(number(target))\(unit)".replacingOccurrences(of: "  ", with: " ")
        }
        return line
    }

    /// The payload of one message to `department` about `firing` and newly `resolved` alerts.
    func payload(
        notificationID: String, department: String, firing: [AlertRecord], resolved: [AlertRecord], createdAt: Int64
    ) -> JSONObject {
        let all = firing + resolved
        let first = all[0]
        let severity = all.map(\.severity).max { (AlertSeverity(rawValue: $0) ?? .info) < (AlertSeverity(rawValue: $1) ?? .info) } ?? "info"
        // A resolved message names the resolving event (`safety.device_online`), `first_event` the one that fired.
        let events = Set(all.map(\.currentEvent))
        let event = events.count == 1 ? first.currentEvent : (firing.first ?? first).currentEvent
        let scopes = Set(all.map(\.scope))
        let towns = Set(all.compactMap(\.town))
        let scope =
            scopes.count == 1
            ? first.scope : (towns.count == 1 && all.allSatisfy { $0.town != nil } ? "town:\(towns.first!)" : "city")
        let status = firing.isEmpty ? "resolved" : "firing"
        let severityName = Self.severityName(severity)
        let since = all.map(\.firstAt).min()!
        var lines: [String] = []
        let summary: String
        if all.count == 1 {
            let alert = first
            let where_ = place(alert)
            if status == "firing" {
                lines.append("【督导告警·\(severityName)】\(eventName(alert.event))｜\(where_)")
                lines.append("摘要：\(alert.summary)")
                summary = alert.summary
            } else {
                lines.append("【督导恢复·\(severityName)】\(eventName(alert.currentEvent))｜\(where_)")
                lines.append("摘要：\(alert.resolvedSummary ?? alert.summary)")
                summary = "【已恢复】" + (alert.resolvedSummary ?? alert.summary)
            }
            if let value = valueLine(alert.details) { lines.append("数值：\(value)") }
            var timeLine = "开始：\(time.format(alert.firstAt))（\(time.zoneName)）"
            if let resolvedAt = alert.resolvedAt { timeLine += "；恢复：\(time.format(resolvedAt))" }
            lines.append(timeLine)
            if let clause = alert.details["clause"]?.stringValue { lines.append("条款：\(clause)") }
            lines.append("编号：\(alert.alertID)" + (status == "firing" ? "；确认：dudao alerts ack \(alert.alertID)" : ""))
        } else {
            let townLabel = towns.first.map { town in
                routes.townNames[town] ?? all.lazy.compactMap { $0.details["town_name"]?.stringValue }.first ?? town
            }
            let where_ = towns.count == 1 ? townLabel! : (scope == "city" ? "全市" : scope)
            let what = events.count == 1 ? eventName(event) : "多类告警"
            lines.append("【督导告警·\(severityName)】\(what) ×\(all.count)｜\(where_)")
            var counts: [String] = []
            if !firing.isEmpty { counts.append("告警 \(firing.count) 条") }
            if !resolved.isEmpty { counts.append("已恢复 \(resolved.count) 条") }
            lines.append("\(where_)：\(what)，\(counts.joined(separator: "，"))")
            summary = "\(where_)：\(what)，\(counts.joined(separator: "，"))；如：\(firing.first?.summary ?? first.summary)"
            for alert in all.prefix(Self.listedMembers) {
                lines.append(
                    "· \(alert.isFiring ? "" : "【已恢复】")\(alert.isFiring ? alert.summary : (alert.resolvedSummary ?? alert.summary))（\(alert.alertID)）"
                )
            }
            if all.count > Self.listedMembers { lines.append("……另有 \(all.count - Self.listedMembers) 条，见 details.alerts") }
            lines.append("最早开始：\(time.format(since))（\(time.zoneName)）")
            if !firing.isEmpty { lines.append("确认：dudao alerts ack 编号") }
        }
        var payload: JSONObject = [
            "notification_id": .string(notificationID), "kind": "alert", "alert_id": .string(first.alertID),
            "alert_ids": .array(all.map { .string($0.alertID) }), "event": .string(event), "severity": .string(severity),
            "status": .string(status), "department": .string(department),
            "department_name": .string(routes.displayName(department)),
            "scope": .string(scope), "summary": .string(summary), "message": .string(lines.joined(separator: "\n")),
            "count": .int(Int64(all.count)), "firing": .int(Int64(firing.count)), "resolved": .int(Int64(resolved.count)),
            "since": .string(Timestamp(millis: since).description),
            "created_at": .string(Timestamp(millis: createdAt).description),
        ]
        if all.count == 1 {
            payload["alert_key"] = .string(first.alertKey)
            if !first.isFiring { payload["first_event"] = .string(first.event) }
            if let town = first.town { payload["town_id"] = .string(town) }
            if let institution = first.institution { payload["institution_id"] = .string(institution) }
            if let device = first.device { payload["device_id"] = .string(device) }
            if let indicator = first.indicator { payload["indicator"] = .string(indicator) }
            payload["details"] = .object(first.details)
        } else {
            payload["details"] = [
                "alerts": .array(
                    all.prefix(Self.detailedMembers).map { alert in
                        [
                            "alert_id": .string(alert.alertID), "alert_key": .string(alert.alertKey),
                            "event": .string(alert.currentEvent), "first_event": .string(alert.event),
                            "severity": .string(alert.severity), "status": .string(alert.status), "scope": .string(alert.scope),
                            "summary": .string(alert.summary), "since": .string(Timestamp(millis: alert.firstAt).description),
                            "details": .object(alert.details),
                        ]
                    })
            ]
        }
        return payload
    }

    /// The payload sent to the leading group office about an alert nobody acknowledged in time.
    func escalation(notificationID: String, department: String, alert: AlertRecord, afterSeconds: Double, createdAt: Int64)
        -> JSONObject
    {
        var payload = self.payload(
            notificationID: notificationID, department: department, firing: [alert], resolved: [], createdAt: createdAt)
        let severityName = Self.severityName(alert.severity)
        let waited = afterSeconds >= 60 ? "\(Int((afterSeconds / 60).rounded())) 分钟" : "\(Int(afterSeconds.rounded())) 秒"
        payload["kind"] = "escalation"
        payload["summary"] = .string("【升级】\(waited)未确认：\(alert.summary)")
        var lines = [
            "【督导升级·\(severityName)】\(eventName(alert.event))｜\(place(alert))",
            "超过 \(waited)无人确认，按规定报领导小组办公室。",
            "摘要：\(alert.summary)",
        ]
        if let value = valueLine(alert.details) { lines.append("数值：\(value)") }
        lines.append("开始：\(time.format(alert.firstAt))（\(time.zoneName)）；首次通知：\(time.format(alert.notifiedAt ?? alert.firstAt))")
        if let clause = alert.details["clause"]?.stringValue { lines.append("条款：\(clause)") }
        lines.append("已通知：\(alert.departments.map { routes.displayName($0) }.joined(separator: "、"))")
        lines.append("编号：\(alert.alertID)；确认：dudao alerts ack \(alert.alertID)")
        payload["message"] = .string(lines.joined(separator: "\n"))
        payload["escalation"] = [
            "after_seconds": .double(afterSeconds), "notified_departments": .array(alert.departments.map { .string($0) }),
        ]
        return payload
    }
}
