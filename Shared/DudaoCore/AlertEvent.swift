/// An event a service sends to `dudao-notify`: something started (`firing`) or ended
/// (`resolved`) for the condition named by `alertKey`.
///
/// On the wire: `{"v":1,"kind":"event","id":<id>,"type":<type>,"body":{...}}`, answered like a
/// feed (`ack` accepted/duplicate, or `nack`). The id is deterministic — derived from what
/// caused the event — so a redelivery is a `duplicate` and never alerts twice.
public struct AlertEvent: Sendable, Equatable {
    public var type: AlertEventType
    public var id: String
    public var severity: AlertSeverity
    /// The condition this event is about; a `resolved` event ends the `firing` one with the same key
    /// (`indicator:preschool.class_size_compliance:2025:town:dongcheng`, `device:alarm-1`).
    public var alertKey: String
    public var status: AlertStatus
    /// `city`, `town:<id>` or `institution:<id>`.
    public var scope: String
    public var townID: String?
    public var institutionID: String?
    public var deviceID: String?
    /// The indicator id, for indicator events (routing matches on its prefix).
    public var indicator: String?
    /// One line in Chinese: what, where, value vs target.
    public var summary: String
    public var details: JSONObject
    /// When it happened.
    public var at: Timestamp

    public init(
        type: AlertEventType, id: String, severity: AlertSeverity, alertKey: String, status: AlertStatus, scope: String,
        townID: String? = nil,
        institutionID: String? = nil, deviceID: String? = nil, indicator: String? = nil, summary: String,
        details: JSONObject = [:], at: Timestamp
    ) {
        self.type = type
        self.id = id
        self.severity = severity
        self.alertKey = alertKey
        self.status = status
        self.scope = scope
        self.townID = townID
        self.institutionID = institutionID
        self.deviceID = deviceID
        self.indicator = indicator
        self.summary = summary
        self.details = details
        self.at = at
    }

    public var body: JSONObject {
        var body: JSONObject = [
            "severity": .string(severity.rawValue), "alert_key": .string(alertKey), "status": .string(status.rawValue),
            "scope": .string(scope),
        ]
        if let townID { body["town_id"] = .string(townID) }
        if let institutionID { body["institution_id"] = .string(institutionID) }
        if let deviceID { body["device_id"] = .string(deviceID) }
        if let indicator { body["indicator"] = .string(indicator) }
        body["summary"] = .string(summary)
        body["details"] = .object(details)
        body["at"] = .string(at.description)
        return body
    }

    /// Reads an `event` frame's parts; the error names the first unknown, missing or malformed member.
    public static func parse(id: String, type: String, body: JSONObject) -> Result<AlertEvent, WireError> {
        guard let eventType = AlertEventType(rawValue: type) else {
            let known = AlertEventType.allCases.map(\.rawValue)
            return .failure(
                WireError(
                    .unknownType, "\"\(type)\" is not an event type; send one of \(known.joined(separator: ", "))",
                    zh: "字段 type：\"\(type)\" 不是事件类型；应为以下之一：\(known.joined(separator: "、"))", path: "type"))
        }
        func text(_ name: String) -> String? { body[name]?.stringValue }
        func missing(_ name: String) -> WireError {
            WireError(.invalidField, "body.\(name) is required and must be a string", path: "body.\(name)")
        }
        guard let severityText = text("severity") else { return .failure(missing("severity")) }
        guard let alertKey = text("alert_key") else { return .failure(missing("alert_key")) }
        guard let statusText = text("status") else { return .failure(missing("status")) }
        guard let scope = text("scope") else { return .failure(missing("scope")) }
        guard let summary = text("summary") else { return .failure(missing("summary")) }
        guard let atText = text("at") else { return .failure(missing("at")) }
        guard let severity = AlertSeverity(rawValue: severityText) else {
            return .failure(WireError(.invalidField, "body.severity must be critical, warning or info", path: "body.severity"))
        }
        guard let status = AlertStatus(rawValue: statusText) else {
            return .failure(WireError(.invalidField, "body.status must be firing or resolved", path: "body.status"))
        }
        guard let at = Timestamp(rfc3339: atText) else {
            return .failure(WireError(.invalidField, "body.at must be an RFC 3339 timestamp", path: "body.at"))
        }
        if let details = body["details"], details.objectValue == nil {
            return .failure(WireError(.invalidField, "body.details must be an object", path: "body.details"))
        }
        return .success(
            AlertEvent(
                type: eventType, id: id, severity: severity, alertKey: alertKey, status: status, scope: scope,
                townID: text("town_id"), institutionID: text("institution_id"), deviceID: text("device_id"),
                indicator: text("indicator"), summary: summary, details: body["details"]?.objectValue ?? [:], at: at))
    }
}
