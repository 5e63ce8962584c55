/// A pattern over names such as feed, query and event types or label values: the name itself,
/// a prefix ending in `*` (`safety.*`, `kg-*`), or `*` for any. The one matcher behind access
/// grants, log subscriptions' `types`, and dudao-notify's routes, inhibitions, silences and
/// `alerts.list` filter.
public enum NamePattern {
    /// Whether `pattern` covers `name`.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        if let prefix = prefix(pattern) { return name.utf8.starts(with: prefix.utf8) }
        return pattern == name
    }

    /// What a name must start with for a `*` pattern (`safety.` for `safety.*`, empty for `*`);
    /// nil for an exact pattern.
    public static func prefix(_ pattern: String) -> Substring? {
        pattern.hasSuffix("*") ? pattern.dropLast() : nil
    }
}
