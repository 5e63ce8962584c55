import DudaoCore

/// One institution's `safety.inventory` (SPEC section 3), as the rates need it.
struct Inventory: Sendable, Equatable {
    /// Installed one-key alarm devices.
    var alarmDevices: [String]
    var cctvPoliceLinked: Bool
    var cameras: Int64
    var camerasLinked: Int64
    var closedManagement: Bool
    var guardsRequired: Int64
    var guardsFullTime: Int64
    /// `as_of` (or the time the ingest received it), ms.
    var asOf: Int64

    /// Reads a body the ingest has validated; `nil` if it is not an inventory.
    init?(body: JSONObject, asOf: Timestamp) {
        guard let devices = body["alarm_devices"]?.arrayValue, let linked = body["cctv_police_linked"]?.boolValue,
            let closed = body["closed_management"]?.boolValue
        else { return nil }
        alarmDevices = devices.compactMap(\.stringValue)
        cctvPoliceLinked = linked
        cameras = body["cameras"]?.intValue ?? 0
        camerasLinked = body["cameras_linked"]?.intValue ?? 0
        closedManagement = closed
        guardsRequired = body["guards_required"]?.intValue ?? 0
        guardsFullTime = body["guards_full_time"]?.intValue ?? 0
        self.asOf = asOf.millis
    }

    /// Guards needed: `max(guards_required, 1)` (INDICATORS.md: every institution needs one).
    var guardsNeeded: Int64 { max(guardsRequired, 1) }
}

/// A `safety.alarm` the service has recorded.
struct AlarmRecord: Sendable, Equatable {
    /// The event id: `safety:alarm:<device>:<at ms>` (the ingest's key for the alarm).
    var id: String
    var deviceID: String
    var institutionID: String
    /// When it was pressed (device time), ms.
    var at: Int64
    /// When the ingest received it, ms.
    var receivedAt: Int64
    var note: String?

    static func eventID(device: String, at: Int64) -> String { "safety:alarm:\(device):\(at)" }

    /// The alert key of its `safety.alarm` event: one alert per press.
    static func alertKey(device: String, at: Int64) -> String { "alarm:\(device):\(at)" }
}
