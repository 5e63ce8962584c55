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
final class CurrentVersions: Sendable {
    struct Key: Hashable, Sendable {
        var type: String
        var key: String
    }

    struct Version: Sendable {
        var asOf: Int64
        var seq: Int64
    }

    struct State {
        var versions: [Key: Version] = [:]
        /// Every key of `current` is in `versions`.
        var complete = false
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
        }
    }

    /// Runs `body` with the cache (one lock for a whole batch). Call it inside the database's
    /// write transaction, never around one: compaction takes the two in that order too.
    func withState<T>(_ body: (inout State) throws -> T) rethrows -> T {
        try state.withLockedValue { state in
            if state.versions.count > limit { state = State() }
            return try body(&state)
        }
    }

    /// Forgets keys compaction removed from the table (inside its write transaction).
    func remove(_ key: Key) {
        _ = state.withLockedValue { $0.versions.removeValue(forKey: key) }
    }

    /// Forgets everything (a failed transaction).
    func clear() {
        state.withLockedValue { $0 = State() }
    }
}
