import DudaoFeeds

/// How long the ingest may hold record news back from its subscribers while its writer is busy
/// (`delivery.hold_ms`; 0: never), and which record types are never held (`delivery.urgent_types`).
struct DeliveryHold: Sendable {
    var limit: Duration
    var urgentTypes: [String]
    /// How long after the writer was last busy held news is still held.
    var quiet: Duration = .milliseconds(50)
    /// How many records' news may be held at once (`delivery.hold_records`): an alarm waits at
    /// its consumer behind the records held before it, and a consumer further behind than the
    /// ingest keeps records for (``RecentRecords``) is read from the store.
    var records: Int = 131_072

    static let none = DeliveryHold(limit: .zero, urgentTypes: [])
}

/// Whether a batch stored a record of an urgent type (patterns as in access rules: `safety.*`).
struct UrgentTypes: Sendable {
    let patterns: TypePatterns

    init(_ patterns: [String]) { self.patterns = TypePatterns(patterns) }

    func any(in stored: [GroupCommitter.Stored]) -> Bool {
        guard !patterns.isEmpty else { return false }
        var patterns = patterns
        return stored.contains { patterns.match($0.request.currentKey.type) }
    }
}
