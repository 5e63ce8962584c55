import DudaoCore

/// Feed-type patterns (as in access rules: `safety.*`), with the answer for the last type asked
/// kept: a run of heartbeats asks the same each time. A subscription's type filter, and the
/// urgent types that are never held back (``DeliveryHold``).
struct TypePatterns: Sendable {
    let patterns: [String]
    private var last: (type: String, matched: Bool)?

    init(_ patterns: [String]) { self.patterns = patterns }

    var isEmpty: Bool { patterns.isEmpty }

    /// Whether one of the patterns matches `type`.
    mutating func match(_ type: String) -> Bool {
        if let last, last.type == type { return last.matched }
        let matched = patterns.contains { NamePattern.matches($0, type) }
        last = (type, matched)
        return matched
    }
}
