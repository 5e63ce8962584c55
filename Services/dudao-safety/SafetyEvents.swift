import DudaoFeeds
import DudaoCore

/// The `AlertEvent`s `dudao-safety` sends to `dudao-notify` (AlertEvent.swift is the contract).
///
/// Ids are derived from what caused the event, so re-queuing after a crash or re-delivering is
/// answered `duplicate` by the receiver:
/// - `safety:offline:<device>:<last_seen ms>`: one silence is identified by the last heartbeat before it;
/// - `safety:online:<device>:<since ms>`: the ingest receipt time of the heartbeat it came back with;
/// - `safety:fault:<device>:<at ms>`: the device time of the heartbeat that reported the fault;
/// - `safety:retired:<device>:<ms>`: the ingest receipt time of the inventory that dropped it;
/// - `safety:alarm:<device>:<at ms>`: the ingest's own key for the alarm.
///
/// Device events share the alert key `device:<id>`: `safety.device_online` or
/// `safety.device_retired` (resolved) ends whichever of offline or fault is firing. Severity: an
/// alarm is `critical` (someone pressed the button: the police must act now); offline and fault
/// are `warning` (the safety net has a hole that needs fixing, not a person in danger —
/// `dudao-notify` escalates what is not acknowledged); online and retired are `info`.
enum SafetyEvents {
    static func device(
        _ transition: DeviceTransition, deviceID: String, record: DeviceRecord, place: SafetyState.Place,
        settings: LivenessSettings, at now: Int64
    ) -> AlertEvent {
        let who = "\(place.townName) \(place.institutionName) 的\(record.kind.nameZh) \(deviceID)"
        var details: JSONObject = [
            "device_kind": .string(record.kind.rawValue), "state": .string(record.state.wire),
            "institution_name": .string(place.institutionName), "town_name": .string(place.townName),
            "last_seen": .string(Timestamp(millis: record.lastSeen).description),
            "last_heartbeat_at": .string(Timestamp(millis: record.lastAt).description),
        ]
        let type: AlertEventType
        let id: String
        let severity: AlertSeverity
        let status: AlertStatus
        let summary: String
        let at: Int64
        switch transition {
        case .wentOffline:
            type = .deviceOffline
            id = "safety:offline:\(deviceID):\(record.lastSeen)"
            severity = .warning
            status = .firing
            at = record.since
            details["offline_after_seconds"] = .double(Double(settings.offlineAfterMillis) / 1000)
            summary = "\(who) 离线：\(formatSeconds(settings.offlineAfterMillis)) 未收到心跳（最后心跳 \(ChinaTime.format(record.lastSeen))）"
        case .reportedFault:
            type = .deviceFault
            id = "safety:fault:\(deviceID):\(record.lastAt)"
            severity = .warning
            status = .firing
            at = record.lastSeen
            summary = "\(who) 报告故障（\(ChinaTime.format(record.lastAt))）"
        case .cameBack:
            type = .deviceOnline
            id = "safety:online:\(deviceID):\(record.since)"
            severity = .info
            status = .resolved
            at = max(record.since, now)
            details["online_since"] = .string(Timestamp(millis: record.since).description)
            summary = "\(who) 已恢复在线（\(ChinaTime.format(record.since)) 起）"
        case .retired:
            type = .deviceRetired
            id = "safety:retired:\(deviceID):\(record.since)"
            severity = .info
            status = .resolved
            at = max(record.since, now)
            summary = "\(who) 已移出安全防控台账（\(ChinaTime.format(record.since))），不再监测"
        }
        return AlertEvent(
            type: type, id: id, severity: severity, alertKey: "device:\(deviceID)", status: status,
            scope: "institution:\(place.institutionID)", townID: place.townID, institutionID: place.institutionID,
            deviceID: deviceID, summary: summary, details: details, at: Timestamp(millis: at))
    }

    /// Every device of an institution is offline (`down`): `safety.institution_offline`, firing; or
    /// one is back: `safety.institution_online`, resolved; alert key `institution:<id>` — `dudao-notify` holds back the
    /// institution's device alerts while it fires (one page for a cut link, not one per device).
    /// `devices` 0 when it resolves: every device left was retired (dropped from the inventory),
    /// none came back.
    static func institution(down: Bool, place: SafetyState.Place, devices: Int, since: Int64, at now: Int64) -> AlertEvent {
        let who = "\(place.townName) \(place.institutionName)"
        let back = devices == 0 ? "\(who) 的离线设备已全部移出台账（不再监测）" : "\(who) 设备恢复上报（链路恢复）"
        return AlertEvent(
            type: down ? .institutionOffline : .institutionOnline,
            id: down ? "safety:institution_offline:\(place.institutionID):\(since)" : "safety:institution_online:\(place.institutionID):\(now)",
            severity: down ? .warning : .info, alertKey: "institution:\(place.institutionID)", status: down ? .firing : .resolved,
            scope: "institution:\(place.institutionID)", townID: place.townID, institutionID: place.institutionID,
            summary: down ? "\(who) 全部 \(devices) 台设备离线（整体链路中断）" : back,
            details: [
                "institution_name": .string(place.institutionName), "town_name": .string(place.townName), "devices": .int(Int64(devices)),
                "since": .string(Timestamp(millis: since).description),
            ],
            at: Timestamp(millis: down ? since : now))
    }

    static func alarm(_ alarm: AlarmRecord, place: SafetyState.Place) -> AlertEvent {
        var summary = "【一键报警】\(place.townName) \(place.institutionName) 设备 \(alarm.deviceID) 于 \(ChinaTime.format(alarm.at)) 报警"
        var details: JSONObject = [
            "institution_name": .string(place.institutionName), "town_name": .string(place.townName),
            "pressed_at": .string(Timestamp(millis: alarm.at).description),
            "received_at": .string(Timestamp(millis: alarm.receivedAt).description),
        ]
        if let note = alarm.note, !note.isEmpty {
            summary += "：\(note)"
            details["note"] = .string(note)
        }
        return AlertEvent(
            type: .alarm, id: alarm.id, severity: .critical, alertKey: AlarmRecord.alertKey(device: alarm.deviceID, at: alarm.at),
            status: .firing, scope: "institution:\(place.institutionID)", townID: place.townID,
            institutionID: place.institutionID, deviceID: alarm.deviceID, summary: summary, details: details,
            at: Timestamp(millis: alarm.at))
    }

    static func formatSeconds(_ millis: Int64) -> String {
        millis % 1000 == 0 ? "\(millis / 1000) 秒" : "\(Double(millis) / 1000) 秒"
    }
}

/// Times for people in China: `2026-11-29 08:00:00` in UTC+8 (the wire keeps RFC 3339 UTC).
enum ChinaTime {
    static func format(_ millis: Int64) -> String {
        let text = Timestamp(millis: millis + 8 * 3_600_000).description
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(8))
    }
}
