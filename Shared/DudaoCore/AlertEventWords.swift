/// The words of an alert event (AlertEvent.swift), spelled as on the wire by their raw values,
/// with the Chinese each is shown as.

/// What happened. A `resolved` event names what ended the condition (`safety.device_online`
/// ends `safety.device_offline`), so a receiver filtering on it sees the end.
public enum AlertEventType: String, Sendable, CaseIterable {
    /// An indicator fell below its target (firing).
    case indicatorNotMet = "indicator.not_met"
    /// An indicator is met but within the margin of its target (firing).
    case indicatorAtRisk = "indicator.at_risk"
    /// An indicator is met again (resolves not_met / at_risk).
    case indicatorRecovered = "indicator.recovered"
    /// A device stopped reporting (firing).
    case deviceOffline = "safety.device_offline"
    /// A device reported a fault (firing).
    case deviceFault = "safety.device_fault"
    /// A device reports again (resolves offline / fault).
    case deviceOnline = "safety.device_online"
    /// A device was dropped from its institution's inventory (resolves offline / fault).
    case deviceRetired = "safety.device_retired"
    /// Every device of an institution stopped reporting: its link is down (firing).
    case institutionOffline = "safety.institution_offline"
    /// A device of an institution whose link was down reports again, or the silent ones were all
    /// retired (resolves institution_offline).
    case institutionOnline = "safety.institution_online"
    /// A one-key alarm was pressed (firing).
    case alarm = "safety.alarm"
    /// A town's institutions owe a report due soon (firing; a reminder).
    case dataDueSoon = "data.due_soon"
    /// A town's institutions owe a report past its due date (firing).
    case dataOverdue = "data.overdue"
    /// Every institution of the town has sent the report (resolves due_soon / overdue).
    case dataComplete = "data.complete"
    /// A construction project is past its due date and not done (firing).
    case projectBehind = "project.behind"
    /// A project that was behind is done (resolves project.behind).
    case projectDone = "project.done"

    /// How people read it (messages, the dashboard).
    public var nameZh: String {
        switch self {
        case .indicatorNotMet: "指标未达标"
        case .indicatorAtRisk: "指标临近目标"
        case .indicatorRecovered: "指标已恢复"
        case .deviceOffline: "设备离线"
        case .deviceFault: "设备故障"
        case .deviceOnline: "设备恢复在线"
        case .deviceRetired: "设备移出台账"
        case .institutionOffline: "机构链路中断"
        case .institutionOnline: "机构链路恢复"
        case .alarm: "一键报警"
        case .dataDueSoon: "数据报送即将到期"
        case .dataOverdue: "数据报送逾期"
        case .dataComplete: "数据报送已齐全"
        case .projectBehind: "建设项目滞后"
        case .projectDone: "建设项目已完成"
        }
    }
}

/// How urgent: `critical` (act now: an alarm, a safety indicator missed), `warning`, `info`.
/// Ordered by urgency (`info < warning < critical`).
public enum AlertSeverity: String, Sendable, CaseIterable, Comparable {
    case info
    case warning
    case critical

    public var nameZh: String {
        switch self {
        case .critical: "严重"
        case .warning: "警告"
        case .info: "提示"
        }
    }

    private var rank: Int {
        switch self {
        case .info: 1
        case .warning: 2
        case .critical: 3
        }
    }

    public static func < (lhs: AlertSeverity, rhs: AlertSeverity) -> Bool { lhs.rank < rhs.rank }
}

/// Whether an event starts (or refreshes) a condition or ends it.
public enum AlertStatus: String, Sendable, CaseIterable {
    case firing
    case resolved
}
