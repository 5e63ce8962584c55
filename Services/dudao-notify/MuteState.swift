import DudaoCore
import DudaoStorage

/// Silences in force and the sources of inhibition, read once per flush.
struct MuteState {
    var silences: [(id: String, matcher: Matcher)] = []
    var rules: [InhibitRule]
    /// Per rule: the `equal` label values of the firing source alerts.
    var sources: [Set<[String?]>]

    init(db: any SQLConnection, now: Timestamp, rules: [InhibitRule]) throws {
        for row in try db.rows(
            "SELECT silence_id, matchers FROM silences WHERE starts_at <= ? AND ends_at > ?", [now.millis, now.millis])
        {
            let text: String = row["matchers"]
            if let object = (try? JSONParser.parse(text))?.objectValue,
                case .success(let matcher) = Matcher.parse(object, path: "")
            {
                silences.append((id: row["silence_id"], matcher: matcher))
            }
        }
        self.rules = rules
        sources = []
        for rule in rules {
            var sql = "SELECT \(AlertRecord.columns) FROM alerts WHERE status = 'firing'"
            var arguments: SQLArguments = []
            if let events = rule.source.exactValues(of: "event") {
                sql += " AND event IN (\(events.map { _ in "?" }.joined(separator: ", ")))"
                for event in events { arguments += [event] }
            }
            var set = Set<[String?]>()
            for row in try db.rows(sql, arguments) {
                let labels = AlertRecord(row: row).labels
                if rule.source.matches(labels) { set.insert(rule.equal.map { labels[$0] }) }
            }
            sources.append(set)
        }
    }

    func silence(for labels: AlertLabels) -> String? {
        silences.first { $0.matcher.matches(labels) }?.id
    }

    func isInhibited(_ labels: AlertLabels) -> Bool {
        for (rule, set) in zip(rules, sources) where !set.isEmpty && rule.target.matches(labels) && !rule.source.matches(labels) {
            if set.contains(rule.equal.map { labels[$0] }) { return true }
        }
        return false
    }
}
