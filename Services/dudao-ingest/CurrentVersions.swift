import NIOConcurrencyHelpers

/// The current version (`as_of` and sequence number) of the SQLite store's keys, so that a
/// record is checked against its key's current version without a lookup in `current`.
///
/// The store is its database's only writer, so what it wrote is what the table holds. Loaded
/// whole at start when the table has at most `limit` keys: the cache is then *complete*, and a
/// key it lacks is a new key (no lookup either). Kept complete as records are stored and as
/// compaction removes keys. A transaction that fails (its writes rolled back) empties it, and so
/// does growing past `limit`: from then on it holds what was written or read lately, and a key
/// it lacks is looked up.
///
/// The event loops read it too, to answer a stale record without the writer thread: only
/// versions whose transaction has committed count there (``isDurablyNewer(_:than:)``).
final class CurrentVersions: Sendable {
    struct Key: Hashable, Sendable {
        var type: String
        var key: String
    }

    struct Version: Sendable {
        var asOf: Int64
        var seq: Int64
    }

    private struct State {
        var versions: [Key: Version] = [:]
        /// Every key of `current` is in `versions`.
        var complete = false
        /// Records up to this sequence number are durable (their transaction committed); a
        /// version with a higher one belongs to a transaction still under way.
        var durable: Int64 = 0
    }

    /// What the cache knows of a key.
    enum Lookup {
        case version(Version)
        /// The key has no current version (the cache is complete).
        case absent
        /// Not cached: look it up.
        case unknown
    }

    private let limit: Int
    private let state = NIOLockedValueBox(State())

    init(limit: Int = 200_000) { self.limit = limit }

    /// Fills the cache with the whole table, unless it has more than `limit` keys: `rows(n)`
    /// reads at most `n` of its rows (one read at start).
    func load(rows: (_ atMost: Int) throws -> [(Key, Version)]) rethrows {
        let loaded = try rows(limit + 1)
        guard loaded.count <= limit else { return }
        state.withLockedValue { state in
            state.versions = Dictionary(loaded, uniquingKeysWith: { _, last in last })
            state.complete = true
            state.durable = loaded.lazy.map(\.1.seq).max() ?? 0
        }
    }

    // The writer locks once per lookup and once per update, never across a batch: the event
    // loops read the cache too (``isDurablyNewer(_:than:)``) and must not wait for a batch's SQL.

    /// What the cache knows of `key` (the writer, inside its transaction).
    func lookup(_ key: Key) -> Lookup {
        state.withLockedValue { state in
            if let version = state.versions[key] { return .version(version) }
            return state.complete ? .absent : .unknown
        }
    }

    /// Records `key`'s version, written or read by the writer inside its transaction.
    func set(_ key: Key, _ version: Version) {
        state.withLockedValue { state in
            if state.versions.count >= limit, state.versions[key] == nil {
                state.versions = [:]
                state.complete = false
            }
            state.versions[key] = version
        }
    }

    /// The transaction that wrote records up to `seq` committed.
    func markDurable(through seq: Int64) {
        state.withLockedValue { $0.durable = max($0.durable, seq) }
    }

    /// Whether `key`'s current version is durable and has a later `as_of` than `asOf`: a record
    /// of `key` as of `asOf` is then stale whatever else is under way (a durable later version
    /// never goes back). `false` when the cache does not know.
    func isDurablyNewer(_ key: Key, than asOf: Int64) -> Bool {
        state.withLockedValue { state in
            guard let version = state.versions[key] else { return false }
            return version.seq <= state.durable && version.asOf > asOf
        }
    }

    /// Forgets keys compaction removed from the table (inside its write transaction).
    func remove(_ key: Key) {
        _ = state.withLockedValue { $0.versions.removeValue(forKey: key) }
    }

    /// Forgets everything (a failed transaction); what is durable stays so.
    func clear() {
        state.withLockedValue { state in
            state.versions = [:]
            state.complete = false
        }
    }
}
