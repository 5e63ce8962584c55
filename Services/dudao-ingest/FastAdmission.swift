import DudaoFeeds

/// Answers a stale feed on its connection's event loop, without the writer thread, when the
/// writer would certainly answer `stale` too (SQLite store only: it is the database's one
/// writer, so what it has committed is all there is):
/// - its key has a durable version with a later `as_of` (a tie needs the stored body: writer);
/// - the filter has certainly not been told of its (sender, id), so it is no duplicate;
/// - the registry as of the last commit refuses none of its references.
///
/// Everything else goes to the writer, as before. The answer is as of the last commit: a later
/// durable version never goes back, and a (sender, id) the writer stores is in the filter
/// before its version counts as durable, so a resent feed is never answered `stale` where the
/// writer would have said `duplicate`.
struct FastAdmission: Sendable {
    let versions: CurrentVersions
    let seen: SeenFeeds
    /// The registry as of the last commit.
    let registry: @Sendable () -> Registry

    /// - Parameter key: `feed`'s type and key.
    func isStale(
        sender: String, id: String, feed: ValidatedFeed, key: CurrentVersions.Key, asOfMillis: Int64, allowedTowns: Set<String>?
    ) -> Bool {
        versions.isDurablyNewer(key, than: asOfMillis)
            && !seen.mayContain(sender: sender, id: id)
            && IngestAdmission.refusal(sender: sender, feed: feed, allowedTowns: allowedTowns, registry: registry()) == nil
    }
}
