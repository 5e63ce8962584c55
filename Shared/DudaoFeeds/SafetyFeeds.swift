import DudaoCore

/// `safety.inventory`, `safety.heartbeat` and `safety.alarm`.
extension FeedValidator {
    static let safetyInventoryFields = [
        "institution_id", "alarm_devices", "cctv_police_linked", "cameras", "cameras_linked",
        "closed_management", "guards_required", "guards_full_time", "as_of",
    ]
    /// Heartbeats and alarms carry `at`, which plays the role of `as_of`; `as_of` itself is refused.
    static let safetyHeartbeatFields = ["device_id", "institution_id", "device_kind", "at", "status"]
    static let safetyAlarmFields = ["device_id", "institution_id", "at", "note"]
    static let deviceKinds = ["alarm", "cctv_link"]
    static let deviceStatuses = ["ok", "fault"]
    /// Longest alarm `note`, in characters.
    static let maxNoteLength = 500

    static func safetyInventory(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .safetyInventory, fields: safetyInventoryFields)
        let institutionID = try reader.identifier("institution_id")
        _ = try reader.identifiers("alarm_devices", of: ("device", "设备"))
        _ = try reader.bool("cctv_police_linked")
        let cameras = try reader.count("cameras")
        let linked = try reader.count("cameras_linked")
        try reader.requireNotAbove("cameras_linked", linked, "cameras", cameras)
        _ = try reader.bool("closed_management")
        _ = try reader.count("guards_required")
        _ = try reader.count("guards_full_time")
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(
            type: .safetyInventory, key: institutionID, asOf: asOf, body: body,
            references: [.institution(id: institutionID, path: "body.institution_id", levels: nil)],
            institutionID: institutionID)
    }

    static func safetyHeartbeat(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .safetyHeartbeat, fields: safetyHeartbeatFields)
        let deviceID = try reader.identifier("device_id")
        let institutionID = try reader.identifier("institution_id")
        _ = try reader.choice("device_kind", among: deviceKinds)
        let at = try reader.timestamp("at")
        _ = try reader.choice("status", among: deviceStatuses)
        return ValidatedFeed(
            type: .safetyHeartbeat, key: deviceID, asOf: at, body: body,
            references: [.institution(id: institutionID, path: "body.institution_id", levels: nil)],
            institutionID: institutionID)
    }

    static func safetyAlarm(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .safetyAlarm, fields: safetyAlarmFields)
        let deviceID = try reader.identifier("device_id")
        let institutionID = try reader.identifier("institution_id")
        let at = try reader.timestamp("at")
        _ = try reader.optionalNote("note", maxLength: maxNoteLength)
        return ValidatedFeed(
            type: .safetyAlarm, key: key(deviceID, at.millis), asOf: at, body: body,
            references: [.institution(id: institutionID, path: "body.institution_id", levels: nil)],
            institutionID: institutionID)
    }
}
