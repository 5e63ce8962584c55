import NIOConcurrencyHelpers

/// The current version (`as_of` and sequence number) of the keys the SQLite store wrote or read
/// lately, so that a device reporting again is checked without a lookup in `current`.
///
/// The store is its database's only writer, so what it wrote is what the table holds, with two
/// exceptions that empty this cache: a transaction that fails (its writes are rolled back), and
/// compaction removing keys (old events). Bounded: past `limit` keys it starts afresh.
final class CurrentVersions: Sendable {
    struct Key: Hashable, Sendable {
        var type: String
        var key: String
    }

    struct Version: Sendable {
        var asOf: Int64
        var seq: Int64
    }

    private let limit: Int
    private let versions: NIOLockedValueBox<[Key: Version]>

    init(limit: Int = 100_000) {
        self.limit = limit
        versions = NIOLockedValueBox([:])
    }

    /// Runs `body` with the cache (one lock for a whole batch). Call it inside the database's
    /// write transaction, never around one: compaction takes the two in that order too.
    func withVersions<T>(_ body: (inout [Key: Version]) throws -> T) rethrows -> T {
        try versions.withLockedValue { versions in
            if versions.count > limit { versions.removeAll(keepingCapacity: true) }
            return try body(&versions)
        }
    }

    /// Forgets everything (a failed transaction, keys removed by compaction).
    func clear() {
        versions.withLockedValue { $0.removeAll() }
    }
}
