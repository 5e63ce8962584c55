import DudaoCore
import DudaoFeeds

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

    /// The rates' view of a decoded inventory; `asOf` is its `as_of` or the time of receipt.
    init(_ inventory: SafetyInventory, asOf: Timestamp) {
        alarmDevices = inventory.alarmDevices
        cctvPoliceLinked = inventory.cctvPoliceLinked
        cameras = inventory.cameras
        camerasLinked = inventory.camerasLinked
        closedManagement = inventory.closedManagement
        guardsRequired = inventory.guardsRequired
        guardsFullTime = inventory.guardsFullTime
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
