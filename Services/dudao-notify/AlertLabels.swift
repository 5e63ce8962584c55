import DudaoCore

/// The labels of an alert that routes, groups, silences and inhibition rules match on.
///
/// `event` (type), `severity`, `scope`, `town`, `institution`, `device`, `indicator`, `alert_key`.
struct AlertLabels: Sendable, Equatable {
    var event: String
    var severity: String
    var scope: String
    var town: String?
    var institution: String?
    var device: String?
    var indicator: String?
    var alertKey: String

    /// Label names, as routes files spell them.
    static let names = ["event", "severity", "scope", "town", "institution", "device", "indicator", "alert_key"]

    subscript(name: String) -> String? {
        switch name {
        case "event": event
        case "severity": severity
        case "scope": scope
        case "town": town
        case "institution": institution
        case "device": device
        case "indicator": indicator
        case "alert_key": alertKey
        default: nil
        }
    }
}

/// A set of label conditions, all of which must hold: each label has one or more patterns, any
/// of which may match. A pattern is exact (`safety.alarm`), a prefix ending in `*`
/// (`safety.*`, `preschool.children_per_*`), or `*` (the label is present).
struct Matcher: Sendable, Equatable {
    var conditions: [(label: String, patterns: [String])]

    init(_ conditions: [(label: String, patterns: [String])] = []) { self.conditions = conditions }

    static func == (lhs: Matcher, rhs: Matcher) -> Bool {
        lhs.conditions.count == rhs.conditions.count
            && zip(lhs.conditions, rhs.conditions).allSatisfy { $0.label == $1.label && $0.patterns == $1.patterns }
    }

    var isEmpty: Bool { conditions.isEmpty }

    func matches(_ labels: AlertLabels) -> Bool {
        conditions.allSatisfy { condition in
            guard let value = labels[condition.label] else { return false }
            return condition.patterns.contains { NamePattern.matches($0, value) }
        }
    }

    /// The exact values a label must take when every pattern for it is exact (for SQL pre-filtering).
    func exactValues(of label: String) -> [String]? {
        guard let condition = conditions.first(where: { $0.label == label }),
            condition.patterns.allSatisfy({ NamePattern.prefix($0) == nil })
        else { return nil }
        return condition.patterns
    }
}

extension Matcher {
    /// Reads matchers sent over the wire (`silences.add`): `{"town": "dongcheng", "event": ["safety.*"]}`.
    static func parse(_ object: JSONObject, path: String) -> Result<Matcher, WireError> {
        var conditions: [(label: String, patterns: [String])] = []
        for (label, value) in object {
            let at = path.isEmpty ? label : "\(path).\(label)"
            guard AlertLabels.names.contains(label) else {
                return .failure(
                    WireError(
                        .invalidField, "\(label) is not a label; use \(AlertLabels.names.joined(separator: ", "))", path: at))
            }
            if let single = value.stringValue, !single.isEmpty {
                conditions.append((label: label, patterns: [single]))
            } else if let array = value.arrayValue, !array.isEmpty, array.allSatisfy({ !($0.stringValue ?? "").isEmpty }) {
                conditions.append((label: label, patterns: array.compactMap(\.stringValue)))
            } else {
                return .failure(WireError(.invalidField, "a matcher value is a pattern or an array of patterns", path: at))
            }
        }
        return .success(Matcher(conditions))
    }

    /// The matcher as JSON (the form `parse` reads).
    var json: JSONValue {
        .object(
            JSONObject(
                conditions.map { condition in
                    (
                        key: condition.label,
                        value: condition.patterns.count == 1
                            ? .string(condition.patterns[0]) : .array(condition.patterns.map { .string($0) })
                    )
                }))
    }
}
