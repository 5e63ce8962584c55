import DudaoCore
import Foundation

/// How alerts of one route are grouped and repeated (Alertmanager's `group_by`, `group_wait`,
/// `group_interval`, `repeat_interval`, `send_resolved`).
struct GroupSettings: Sendable, Equatable {
    /// Labels whose values make up the group: alerts with equal values share a message.
    var groupBy: [String] = ["event", "town"]
    /// How long a new group waits for more alerts before its first message.
    var groupWait: Double = 30
    /// How long after a message a group waits before sending what changed (new or resolved alerts).
    var groupInterval: Double = 300
    /// How often a group still firing (and not acknowledged) is sent again.
    var repeatInterval: Double = 14_400
    /// Whether a resolved alert that was notified gets a resolved notice.
    var sendResolved = true
}

/// One route: alerts matching `matcher` go to the departments in `to`.
struct Route: Sendable {
    var line: Int
    var matcher: Matcher
    /// Department ids; `town:*` is the alert's town.
    var to: [String]
    var settings: GroupSettings
}

/// A way to reach a department.
enum ChannelConfig: Sendable, Equatable {
    /// HTTP POST of the JSON payload, signed with HMAC-SHA256 when a secret is set.
    case webhook(url: String, secret: String?, timeout: Double)
    /// The WeCom (企业微信) group-robot webhook (`msgtype: markdown`).
    case wecom(url: String, timeout: Double)
    /// E-mail over SMTP (the routes file's `smtp` section).
    case email(to: [String])
    /// One JSON line per message appended (and fsync'd) to a file.
    case file(path: String)

    var type: String {
        switch self {
        case .webhook: "webhook"
        case .wecom: "wecom"
        case .email: "email"
        case .file: "file"
        }
    }

    /// What a delivery records as its target: type and address, no secret.
    var target: String {
        switch self {
        case .webhook(let url, _, _): "webhook \(url)"
        case .wecom(let url, _): "wecom \(url)"
        case .email(let to): "email \(to.joined(separator: ","))"
        case .file(let path): "file \(path)"
        }
    }

    /// This channel with `{town}` replaced (for the `town:*` template).
    func filling(town: String) -> ChannelConfig {
        func fill(_ text: String) -> String { text.replacingOccurrences(of: "{town}", with: town) }
        switch self {
        case .webhook(let url, let secret, let timeout): return .webhook(url: fill(url), secret: secret, timeout: timeout)
        case .wecom(let url, let timeout): return .wecom(url: fill(url), timeout: timeout)
        case .email(let to): return .email(to: to.map(fill))
        case .file(let path): return .file(path: fill(path))
        }
    }
}

/// A receiver: a department and its channels.
struct DepartmentConfig: Sendable {
    var id: String
    /// Chinese name used in messages (`市公安局`); may hold `{town}` / `{town_name}` for `town:*`.
    var name: String
    var channels: [ChannelConfig]
}

/// While a firing alert matches `source`, firing alerts matching `target` with the same values
/// of the `equal` labels are not notified (a link down hides the devices behind it).
struct InhibitRule: Sendable {
    var source: Matcher
    var target: Matcher
    var equal: [String]
}

/// A firing alert of these severities that nobody acknowledged within `afterSeconds` of its
/// first message is sent to `to` (the leading group office).
struct EscalationRule: Sendable {
    var severities: [String] = ["critical"]
    var afterSeconds: Double = 900
    var to: [String] = ["leading_group"]
}

/// The SMTP server e-mail channels send through.
struct SMTPSettings: Sendable, Equatable {
    enum StartTLS: String, Sendable { case auto, always, never }
    var host: String
    var port: Int = 25
    var startTLS: StartTLS = .auto
    /// A PEM file of CAs to trust for STARTTLS (default: the system's).
    var tlsCA: String?
    var username: String?
    var password: String?
    var from: String
    var fromName: String = "督导 Dudao"
    var helo: String = "dudao-notify"
    var timeout: Double = 30
}

/// The routes file: who gets which alert, how, and the alerting rules around it.
struct Routes: Sendable {
    var defaults = GroupSettings()
    var routes: [Route] = []
    var departments: [String: DepartmentConfig] = [:]
    var inhibit: [InhibitRule] = []
    var escalation: EscalationRule?
    var smtp: SMTPSettings?
    var townNames: [String: String] = [:]

    /// A department to which an alert is routed, with the settings of the first route naming it.
    struct Target: Sendable, Equatable {
        var department: String
        var route: Int
        var settings: GroupSettings
    }

    /// Every department an alert with `labels` goes to: each matching route adds its departments
    /// (`town:*` becomes the alert's town, skipped when it has none).
    func targets(for labels: AlertLabels) -> [Target] {
        var result: [Target] = []
        for (index, route) in routes.enumerated() where route.matcher.matches(labels) {
            for name in route.to {
                let department: String
                if name == Department.townTemplate {
                    guard let town = labels.town else { continue }
                    department = "town:\(town)"
                } else {
                    department = name
                }
                if !result.contains(where: { $0.department == department }) {
                    result.append(Target(department: department, route: index, settings: route.settings))
                }
            }
        }
        return result
    }

    /// The configuration of `id`, with `town:<id>` filled in from the `town:*` template.
    func department(_ id: String) -> DepartmentConfig? {
        if let exact = departments[id] { return exact }
        guard let town = Department.townID(of: id), let template = departments[Department.townTemplate] else { return nil }
        return DepartmentConfig(
            id: id, name: fillName(template.name, town: town), channels: template.channels.map { $0.filling(town: town) })
    }

    /// The Chinese name of a department for messages.
    func displayName(_ id: String) -> String {
        if let config = department(id) { return config.name }
        if let town = Department.townID(of: id) { return "\(townName(town))政府" }
        return Department.names[id] ?? id
    }

    /// A town's name (`东成镇`), or its id when the routes file does not name it.
    func townName(_ id: String) -> String { townNames[id] ?? id }

    private func fillName(_ name: String, town: String) -> String {
        name.replacingOccurrences(of: "{town_name}", with: townName(town)).replacingOccurrences(of: "{town}", with: town)
    }
}
