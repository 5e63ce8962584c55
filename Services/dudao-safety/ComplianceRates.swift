import DudaoCore
import DudaoFeeds

/// Σ numerator / Σ denominator of one rate.
struct RateTally: Sendable, Equatable {
    var numerator = 0
    var denominator = 0

    /// 100 × numerator / denominator; `nil` when the denominator is 0 (`no_data`).
    var value: Double? { denominator == 0 ? nil : 100 * Double(numerator) / Double(denominator) }
}

/// The rates of one group of institutions.
struct ComplianceTally: Sendable, Equatable {
    var institutions = 0
    /// By ``ComplianceRule/rawValue``.
    var rules = [RateTally](repeating: RateTally(), count: ComplianceRule.allCases.count)
    /// Alarm devices online / alarm devices.
    var alarmsOnline = RateTally()
    /// Institutions counted that never sent `safety.inventory` (ids, sorted).
    var unreported: [String] = []

    subscript(rule: ComplianceRule) -> RateTally { rules[rule.rawValue] }

    mutating func add(_ institution: InstitutionSafety) {
        institutions += 1
        for rule in ComplianceRule.allCases {
            rules[rule.rawValue].denominator += 1
            if let inventory = institution.inventory, rule.holds(inventory) { rules[rule.rawValue].numerator += 1 }
        }
        if institution.inventory == nil { unreported.append(institution.id) }
        alarmsOnline.numerator += institution.alarmsOnline
        alarmsOnline.denominator += institution.alarmDevices
    }
}

/// The safety figures of one scope.
struct ScopeFigures: Sendable, Equatable {
    /// Over the registered kindergartens (unreported ones count as not compliant): the plan's rates.
    var kindergartens = ComplianceTally()
    /// Per level, over the institutions of that level that sent an inventory.
    var byLevel: [InstitutionLevel: ComplianceTally] = [:]
    /// Devices heard from, of every institution in scope.
    var devices = 0
    var devicesOffline = 0
    var devicesFault = 0
    /// Devices listed in an inventory's `alarm_devices` that never sent a heartbeat.
    var devicesNeverSeen = 0
    var openAlarms = 0
}

/// One institution's inventory and alarm devices.
struct InstitutionSafety: Sendable {
    var id: String
    var institution: Registry.Institution?
    var inventory: Inventory?
    /// Alarm devices: the inventory's `alarm_devices` plus devices of kind `alarm` heard from for it.
    var alarmDevices = 0
    var alarmsOnline = 0
    var devices = 0
    var offline = 0
    var fault = 0
    var neverSeen = 0

    /// Reasons it breaks the rules (`unreported` when it sent no inventory), as `(code, Chinese)`.
    var reasons: [(code: String, text: String)] {
        guard let inventory else { return [("unreported", "未报送安全防控台账（safety.inventory）")] }
        return ComplianceRule.allCases.filter { !$0.holds(inventory) }.map { ($0.reasonCode, $0.reasonZh(inventory)) }
    }
}

/// The safety rates of INDICATORS.md, computed from the state in one pass over the devices.
///
/// - Each of the four rates = 100 × compliant kindergartens / registered kindergartens in scope;
///   a kindergarten without `safety.inventory` is in the denominator, not compliant, and listed
///   as unreported.
/// - `safety.alarm_online_rate` (tracked) = alarm devices online / alarm devices those
///   kindergartens' inventories list (`alarm_devices`, as dudao-indicators counts them), online
///   by the one rule both services share (``DeviceOnline``: latest heartbeat `ok`, received at most
///   `offline_after` ago). A listed device never heard from is not online; a device that
///   reports without being listed is watched (offline events, device lists) but is not one of
///   the institution's installed alarms.
/// - `by_level`: the same rates per level over the institutions of that level that sent an
///   inventory (the clause binds kindergartens; other levels are reported, not judged missing).
enum ComplianceRates {
    /// Every registered institution's safety, by id, devices judged online at `online.now`.
    static func institutions(_ state: SafetyState, online: OnlineWindow) -> [String: InstitutionSafety] {
        let interned = state.institutions.count
        var devices = [Int32](repeating: 0, count: interned)
        var offline = [Int32](repeating: 0, count: interned)
        var fault = [Int32](repeating: 0, count: interned)
        for record in state.devices.records where record.state != .retired {
            let i = Int(record.institution)
            devices[i] += 1
            switch record.state {
            case .offline: offline[i] += 1
            case .fault: fault[i] += 1
            case .online, .retired: break
            }
        }
        var result: [String: InstitutionSafety] = [:]
        result.reserveCapacity(state.registry.institutions.count)
        for (id, institution) in state.registry.institutions {
            var entry = InstitutionSafety(id: id, institution: institution, inventory: state.inventories[id])
            let index = state.institutions.find(id)
            if let index {
                let i = Int(index)
                entry.devices = Int(devices[i])
                entry.offline = Int(offline[i])
                entry.fault = Int(fault[i])
            }
            // The installed alarms are the ones the inventory lists, wherever they report.
            for deviceID in entry.inventory?.alarmDevices ?? [] {
                entry.alarmDevices += 1
                guard let d = state.devices.find(deviceID) else {
                    entry.neverSeen += 1
                    continue
                }
                let record = state.devices.records[Int(d)]
                if online.isOnline(record) { entry.alarmsOnline += 1 }
            }
            result[id] = entry
        }
        return result
    }

    /// The figures of each scope in `scopes`, by scope.
    static func figures(_ state: SafetyState, scopes: [SafetyScope], online: OnlineWindow) -> [SafetyScope: ScopeFigures] {
        let all = institutions(state, online: online)
        var figures: [SafetyScope: ScopeFigures] = [:]
        for scope in scopes { figures[scope] = ScopeFigures() }
        for id in all.keys.sorted() {
            let entry = all[id]!
            for scope in scopes where scope.contains(id, entry.institution) {
                figures[scope]!.add(entry)
            }
        }
        for alarm in state.openAlarms {
            let institution = state.registry.institutions[alarm.institutionID]
            for scope in scopes where scope.contains(alarm.institutionID, institution) {
                figures[scope]!.openAlarms += 1
            }
        }
        return figures
    }
}

extension ScopeFigures {
    mutating func add(_ entry: InstitutionSafety) {
        devices += entry.devices
        devicesOffline += entry.offline
        devicesFault += entry.fault
        devicesNeverSeen += entry.neverSeen
        if entry.institution?.level == .kindergarten { kindergartens.add(entry) }
        if entry.inventory != nil, let level = entry.institution?.level { byLevel[level, default: ComplianceTally()].add(entry) }
    }
}

/// When and over what silence the rates judge a device online (``DeviceOnline``).
struct OnlineWindow: Sendable {
    var nowMillis: Int64
    var offlineAfterMillis: Int64

    /// Latest heartbeat `ok` (the record is `online`; `fault`, `offline` and `retired` are not)
    /// and received at most `offline_after` ago.
    func isOnline(_ record: DeviceRecord) -> Bool {
        DeviceOnline.isOnline(
            lastOK: record.state == .online, receivedMillis: record.lastSeen, nowMillis: nowMillis, offlineAfterMillis: offlineAfterMillis)
    }
}

extension SafetyEngine {
    /// The rates' view of liveness now.
    var onlineWindow: OnlineWindow {
        OnlineWindow(nowMillis: clock.now().millis, offlineAfterMillis: settings.liveness.offlineAfterMillis)
    }
}
