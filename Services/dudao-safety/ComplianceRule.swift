/// The four compliance rules of clause 四(九) (INDICATORS.md, safety systems).
enum ComplianceRule: Int, CaseIterable, Sendable {
    case alarmInstalled
    case policeLinked
    case closedManagement
    case guardsStaffed

    /// The indicator whose numerator counts the institutions that follow the rule.
    var indicatorID: String {
        switch self {
        case .alarmInstalled: "safety.alarm_install_rate"
        case .policeLinked: "safety.police_link_rate"
        case .closedManagement: "safety.closed_management_rate"
        case .guardsStaffed: "safety.guard_staffing_rate"
        }
    }

    var nameZh: String {
        switch self {
        case .alarmInstalled: "“一键报警”系统安装率"
        case .policeLinked: "视频监控接入公安完成率"
        case .closedManagement: "校园封闭管理率"
        case .guardsStaffed: "专职保安配备率"
        }
    }

    /// Short column title for tables.
    var shortZh: String {
        switch self {
        case .alarmInstalled: "一键报警"
        case .policeLinked: "视频联网"
        case .closedManagement: "封闭管理"
        case .guardsStaffed: "专职保安"
        }
    }

    /// The reason code of an institution that breaks the rule.
    var reasonCode: String {
        switch self {
        case .alarmInstalled: "no_alarm_device"
        case .policeLinked: "cctv_not_linked"
        case .closedManagement: "not_closed"
        case .guardsStaffed: "guards_short"
        }
    }

    /// Whether `inventory` follows the rule: `alarm_devices` not empty; `cctv_police_linked`;
    /// `closed_management`; `guards_full_time >= max(guards_required, 1)`.
    func holds(_ inventory: Inventory) -> Bool {
        switch self {
        case .alarmInstalled: !inventory.alarmDevices.isEmpty
        case .policeLinked: inventory.cctvPoliceLinked
        case .closedManagement: inventory.closedManagement
        case .guardsStaffed: inventory.guardsFullTime >= inventory.guardsNeeded
        }
    }

    /// Why `inventory` breaks the rule, in Chinese.
    func reasonZh(_ inventory: Inventory) -> String {
        switch self {
        case .alarmInstalled: "未安装一键报警设备"
        case .policeLinked: "视频监控未接入公安（已接入 \(inventory.camerasLinked)/\(inventory.cameras) 路）"
        case .closedManagement: "未实行校园封闭管理"
        case .guardsStaffed: "专职保安不足（需 \(inventory.guardsNeeded) 名，现有 \(inventory.guardsFullTime) 名）"
        }
    }
}
