import DudaoFeeds
/// The live state of a device, as the liveness rules see it.
enum DeviceState: UInt8, Sendable {
    /// Last heartbeat `ok` and not older than `offline_after`.
    case online = 0
    /// No heartbeat for `offline_after`.
    case offline = 1
    /// Last heartbeat reported `fault` (and not older than `offline_after`).
    case fault = 2
    /// Removed from its institution's `safety.inventory` (`alarm_devices`): neither watched nor
    /// counted any more, until it sends a heartbeat again.
    case retired = 3

    var wire: String {
        switch self {
        case .online: "online"
        case .offline: "offline"
        case .fault: "fault"
        case .retired: "retired"
        }
    }

    var nameZh: String {
        switch self {
        case .online: "在线"
        case .offline: "离线"
        case .fault: "故障"
        case .retired: "已移出台账"
        }
    }
}

extension DeviceKind {
    /// The code the `device` table stores (`kind` column).
    var storeCode: UInt8 { self == .alarm ? 0 : 1 }

    init(storeCode: UInt8) { self = storeCode == 1 ? .cctvLink : .alarm }
}

/// What the device's unresolved firing event (if any) reports. Offline outranks fault: a faulty
/// device that then goes silent escalates; an offline device that comes back faulty does not
/// raise a second event.
enum DeviceProblem: UInt8, Sendable, Comparable {
    case none = 0
    case fault = 1
    case offline = 2

    static func < (lhs: DeviceProblem, rhs: DeviceProblem) -> Bool { lhs.rawValue < rhs.rawValue }

    var wire: String? {
        switch self {
        case .none: nil
        case .fault: "fault"
        case .offline: "offline"
        }
    }
}

/// One device, kept compact: 32 bytes, so a province's 1 000 000 devices take 32 MB (plus
/// their ids and the id index, see ``DeviceTable``).
struct DeviceRecord: Sendable, Equatable {
    /// Index into ``InstitutionTable``.
    var institution: Int32
    var kind: DeviceKind
    var state: DeviceState
    /// The problem an unresolved firing event reports (`none`: nothing is firing).
    var alerting: DeviceProblem
    /// `lastSeen`/`lastAt` changed since they were last written to SQLite.
    var dirty: Bool
    /// When the ingest received the last heartbeat (ms since the epoch): the liveness clock.
    var lastSeen: Int64
    /// The device's own `at` of the last heartbeat (ms): orders heartbeats, never times them out.
    var lastAt: Int64
    /// When the current `state` began (ms).
    var since: Int64

    /// Whether anything but the lazily written `lastSeen`/`lastAt`/`dirty` differs: such a change
    /// is written in the same transaction as the consumer position.
    func differsDurably(from other: DeviceRecord) -> Bool {
        institution != other.institution || kind != other.kind || state != other.state || alerting != other.alerting
            || since != other.since
    }
}
