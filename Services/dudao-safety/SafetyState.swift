import DudaoFeeds

/// Everything `dudao-safety` knows, in memory: rebuilt from its SQLite file at start, changed
/// only together with that file (see ``SafetyEngine``).
struct SafetyState: Sendable {
    /// Registered towns and institutions (from `registry.*`).
    var registry = Registry()
    /// `safety.inventory` by institution id.
    var inventories: [String: Inventory] = [:]
    var institutions = InstitutionTable()
    var devices = DeviceTable()
    /// Alarms not yet closed, oldest first.
    var openAlarms: [AlarmRecord] = []
    /// Institutions whose every device is offline (a `safety.institution_offline` is firing),
    /// with when that began (ms).
    var institutionsDown: [String: Int64] = [:]
    /// The last ingest log sequence number applied.
    var position: Int64 = 0

    /// Where a device is: institution id, name, town id and town name (ids when names are unknown).
    func place(ofInstitution index: Int32) -> Place {
        place(ofInstitution: institutions.ids[Int(index)])
    }

    func place(ofInstitution id: String) -> Place {
        let institution = registry.institutions[id]
        let townID = institution?.townID
        return Place(
            institutionID: id, institutionName: institution?.name ?? id, townID: townID,
            townName: townID.map { registry.towns[$0]?.name ?? $0 } ?? "")
    }

    struct Place: Sendable {
        var institutionID: String
        var institutionName: String
        var townID: String?
        var townName: String
    }
}
