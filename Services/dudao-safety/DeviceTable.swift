/// Every device the service has heard from, by dense index.
///
/// Index `i` is also the device's row id in SQLite (devices are only ever appended), so a new
/// device is an append to the table's B-tree and a lazy `last_seen` flush walks it in order.
struct DeviceTable: Sendable {
    /// Device ids by index.
    private(set) var ids: [String] = []
    /// Device records by index.
    var records: [DeviceRecord] = []
    private var index: [String: Int32] = [:]

    var count: Int { records.count }

    /// The index of `id`, if known.
    func find(_ id: String) -> Int32? { index[id] }

    /// Appends a device; returns its index.
    mutating func append(id: String, record: DeviceRecord) -> Int32 {
        let position = Int32(records.count)
        ids.append(id)
        records.append(record)
        index[id] = position
        return position
    }

    mutating func reserveCapacity(_ capacity: Int) {
        ids.reserveCapacity(capacity)
        records.reserveCapacity(capacity)
        index.reserveCapacity(capacity)
    }
}

/// Institution ids interned to small integers, so a device record holds 4 bytes instead of a
/// string. Not persisted: rebuilt from the device rows at start.
struct InstitutionTable: Sendable {
    private(set) var ids: [String] = []
    private var index: [String: Int32] = [:]

    var count: Int { ids.count }

    func find(_ id: String) -> Int32? { index[id] }

    /// The index of `id`, adding it when new.
    mutating func intern(_ id: String) -> Int32 {
        if let known = index[id] { return known }
        let position = Int32(ids.count)
        ids.append(id)
        index[id] = position
        return position
    }
}
