import DudaoCore

/// Devices by dense id, with their latest heartbeat.
struct DeviceTable {
    private var ids: [String: Int32] = [:]
    private(set) var names: [String] = []
    /// Millis of the latest heartbeat's `at` (the device's clock, shown to people); `Int64.min` =
    /// never heard from.
    var lastAt: [Int64] = []
    /// When the ingest received the latest heartbeat (ms): the liveness clock (``DeviceOnline``).
    var receivedAt: [Int64] = []
    /// Whether the latest heartbeat said `ok`.
    var ok: [Bool] = []
    /// The latest heartbeat's `institution_id`.
    var institution: [String?] = []

    mutating func id(_ name: String) -> Int32 {
        if let existing = ids[name] { return existing }
        names.append(name)
        lastAt.append(Int64.min)
        receivedAt.append(Int64.min)
        ok.append(false)
        institution.append(nil)
        ids[name] = Int32(names.count - 1)
        return Int32(names.count - 1)
    }

    /// Whether device `id` is online at `now` by the rule dudao-safety shares (``DeviceOnline``):
    /// latest heartbeat `ok`, received at most `window` ago.
    @inline(__always) func isOnline(_ id: Int32, now: Int64, window: Int64) -> Bool {
        let index = Int(id)
        // Never heard from: `ok` is false (a heartbeat sets `ok` and `receivedAt` together).
        return DeviceOnline.isOnline(lastOK: ok[index], receivedMillis: receivedAt[index], nowMillis: now, offlineAfterMillis: window)
    }
}

/// The devices an `online` aggregate counts, by scope, with multiplicities (a device listed
/// by two inventories counts twice, as the denominator counts listings).
struct OnlineState {
    var devicesByScope: [Int32: [Int32: Int32]] = [:]
}
