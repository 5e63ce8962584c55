import DudaoCore
import DudaoFeeds

/// What becomes of each feed of a batch, on either store (SPEC section 3): a (sender, id) seen
/// within the dedupe window is a duplicate; then every town and institution it names must be
/// registered, and a sender restricted to some towns may send only theirs; then it must be newer
/// than its key's current version — a later `as_of`, or on a tie the larger body compared as
/// bytes, so arrival order never decides.
enum IngestAdmission {
    enum Verdict {
        /// Answered without storing: duplicate, stale or rejected.
        case answer(CommitOutcome)
        /// Stored as the key's new current version, with the request's `asOfMillis` and `body`.
        case store
    }

    /// The stored version of a key: its `as_of` and, read only on a tie, its body (UTF-8).
    struct Current {
        var asOf: Int64
        var body: () throws -> [UInt8]
    }

    /// - Parameters:
    ///   - seenAt: when the store accepted `request`'s (sender, id), if it did.
    ///   - current: the current version of `request`'s key, if there is one.
    static func verdict(
        _ request: CommitRequest, registry: Registry, now: Timestamp, seenAt: Int64?, current: () throws -> Current?
    ) throws -> Verdict {
        if let seenAt, seenAt >= now.millis - request.dedupeWindowMillis { return .answer(.duplicate) }
        if let refused = refusal(request, registry: registry) { return .answer(.rejected(refused)) }
        let asOf = request.asOfMillis
        if let stored = try current() {
            var isStale = asOf < stored.asOf
            if asOf == stored.asOf {
                // Bytes, not Strings: Swift compares canonically equivalent text as equal
                // ("é" vs "e\u{301}"), which would let arrival order decide.
                isStale = !(try stored.body()).lexicographicallyPrecedes(request.body)
            }
            if isStale { return .answer(.stale) }
        }
        return .store
    }

    /// Why `request` is refused, or `nil` when it may be stored.
    static func refusal(_ request: CommitRequest, registry: Registry) -> WireError? {
        refusal(sender: request.sender, feed: request.feed, allowedTowns: request.allowedTowns, registry: registry)
    }

    /// Why `feed` from `sender`, restricted to `allowedTowns` (`nil`: any), is refused, or `nil`.
    static func refusal(sender: String, feed: ValidatedFeed, allowedTowns: Set<String>?, registry: Registry) -> WireError? {
        if let error = registry.check(feed.references) { return error }
        guard let towns = allowedTowns else { return nil }
        let town = registry.town(of: feed)
        if let town, towns.contains(town) { return nil }
        let message =
            "identity \"\(sender)\" may send feeds only for \(towns.sorted().joined(separator: ", ")); "
            + (town.map { "this record belongs to \($0)" } ?? "this record belongs to no town")
        let zh =
            "身份 \"\(sender)\" 只能发送 \(towns.sorted().joined(separator: "、")) 的数据；"
            + (town.map { "此记录属于 \($0)" } ?? "此记录不属于任何镇街")
        return WireError(.forbidden, message, zh: zh)
    }
}
