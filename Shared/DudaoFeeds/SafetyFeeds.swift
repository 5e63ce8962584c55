import DudaoCore

/// `safety.inventory`: one institution's safety systems (clause 四(九)).
public struct SafetyInventory: Sendable, Equatable {
    public var institutionID: String
    /// Installed one-key alarm devices, each listed once.
    public var alarmDevices: [String]
    public var cctvPoliceLinked: Bool
    public var cameras: Int64
    /// At most `cameras`.
    public var camerasLinked: Int64
    public var closedManagement: Bool
    public var guardsRequired: Int64
    public var guardsFullTime: Int64
    public var asOf: Timestamp?

    public init(
        institutionID: String, alarmDevices: [String], cctvPoliceLinked: Bool, cameras: Int64, camerasLinked: Int64,
        closedManagement: Bool, guardsRequired: Int64, guardsFullTime: Int64, asOf: Timestamp? = nil
    ) {
        self.institutionID = institutionID
        self.alarmDevices = alarmDevices
        self.cctvPoliceLinked = cctvPoliceLinked
        self.cameras = cameras
        self.camerasLinked = camerasLinked
        self.closedManagement = closedManagement
        self.guardsRequired = guardsRequired
        self.guardsFullTime = guardsFullTime
        self.asOf = asOf
    }
}

/// `safety.heartbeat`: one device's liveness report.
public struct Heartbeat: Sendable, Equatable {
    public var deviceID: String
    public var institutionID: String
    public var deviceKind: DeviceKind
    /// The device's clock; plays the role of `as_of`.
    public var at: Timestamp
    public var status: DeviceStatus

    public init(deviceID: String, institutionID: String, deviceKind: DeviceKind, at: Timestamp, status: DeviceStatus) {
        self.deviceID = deviceID
        self.institutionID = institutionID
        self.deviceKind = deviceKind
        self.at = at
        self.status = status
    }
}

/// `safety.alarm`: a one-key alarm (一键报警) was pressed.
public struct Alarm: Sendable, Equatable {
    public var deviceID: String
    public var institutionID: String
    /// When it was pressed (the device's clock); plays the role of `as_of`.
    public var at: Timestamp
    public var note: String?

    public init(deviceID: String, institutionID: String, at: Timestamp, note: String? = nil) {
        self.deviceID = deviceID
        self.institutionID = institutionID
        self.at = at
        self.note = note
    }
}

extension FeedValidator {
    static let safetyInventoryFields = [
        "institution_id", "alarm_devices", "cctv_police_linked", "cameras", "cameras_linked",
        "closed_management", "guards_required", "guards_full_time", "as_of",
    ]
    /// Heartbeats and alarms carry `at`, which plays the role of `as_of`; `as_of` itself is refused.
    static let safetyHeartbeatFields = ["device_id", "institution_id", "device_kind", "at", "status"]
    static let safetyAlarmFields = ["device_id", "institution_id", "at", "note"]
    /// Longest alarm `note`, in characters.
    static let maxNoteLength = 500

    static func safetyInventory(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .safetyInventory, fields: safetyInventoryFields)
        let institutionID = try reader.identifier("institution_id")
        let devices = try reader.identifiers("alarm_devices", of: ("device", "设备"))
        let linked = try reader.bool("cctv_police_linked")
        let cameras = try reader.count("cameras")
        let camerasLinked = try reader.count("cameras_linked")
        try reader.requireNotAbove("cameras_linked", camerasLinked, "cameras", cameras)
        return .safetyInventory(
            SafetyInventory(
                institutionID: institutionID, alarmDevices: devices, cctvPoliceLinked: linked, cameras: cameras,
                camerasLinked: camerasLinked, closedManagement: try reader.bool("closed_management"),
                guardsRequired: try reader.count("guards_required"), guardsFullTime: try reader.count("guards_full_time"),
                asOf: try reader.optionalTimestamp("as_of")))
    }

    static func safetyHeartbeat(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .safetyHeartbeat, fields: safetyHeartbeatFields)
        return .safetyHeartbeat(
            Heartbeat(
                deviceID: try reader.identifier("device_id"), institutionID: try reader.identifier("institution_id"),
                deviceKind: try reader.choice("device_kind", DeviceKind.self), at: try reader.timestamp("at"),
                status: try reader.choice("status", DeviceStatus.self)))
    }

    static func safetyAlarm(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .safetyAlarm, fields: safetyAlarmFields)
        return .safetyAlarm(
            Alarm(
                deviceID: try reader.identifier("device_id"), institutionID: try reader.identifier("institution_id"),
                at: try reader.timestamp("at"), note: try reader.optionalNote("note", maxLength: maxNoteLength)))
    }
}
