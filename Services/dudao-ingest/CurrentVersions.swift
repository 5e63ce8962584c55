import NIOConcurrencyHelpers

/// The current version (`as_of` and sequence number) of every key of the SQLite store: the
/// highest-numbered record of each key in the log, since a record is stored only when newer
/// than its key's current version. The store keeps no table of them (an index write per record
/// fewer); they live here, rebuilt from the log at start and after a failed transaction.
///
/// The event loops read it too, to answer a stale record without the writer thread: only
/// versions whose transaction has committed count there (``isDurablyNewer(_:than:)``).
/// About 100 bytes a key: past a few million keys, use PostgreSQL.
final class CurrentVersions: Sendable {
    /// A record's key: its type and key, hashed once when made (on the event loop, for a feed)
    /// rather than at each of the lookups it goes through.
    struct Key: Hashable, Sendable {
        let type: String
        let key: String
        private let hash: Int

        init(type: String, key: String) {
            self.type = type
            self.key = key
            var hasher = Hasher()
            hasher.combine(type)
            hasher.combine(key)
            hash = hasher.finalize()
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }

        static func == (a: Key, b: Key) -> Bool { a.hash == b.hash && a.type == b.type && a.key == b.key }
    }

    struct Version: Sendable {
        var asOf: Int64
        var seq: Int64
    }

    private struct State {
        var versions: [Key: Version] = [:]
        /// `versions` holds every key of the log; `false` after a failed transaction, until the
        /// writer loads them again.
        var valid = false
        /// Records up to this sequence number are durable (their transaction committed); a
        /// version with a higher one belongs to a transaction still under way, or rolled back.
        var durable: Int64 = 0
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    /// Replaces everything with the log's records (`(key, version)` in sequence order: the last
    /// of a key is its current version). Run inside a transaction, so nothing else writes.
    func load(_ records: (_ each: (Key, Version) -> Void) throws -> Void) rethrows {
        var versions: [Key: Version] = [:]
        var highest: Int64 = 0
        try records { key, version in
            versions[key] = version
            highest = max(highest, version.seq)
        }
        state.withLockedValue { state in
            state = State(versions: versions, valid: true, durable: max(state.durable, highest))
        }
    }

    // Locked once per lookup and once per update, never across a batch: the event loops read
    // it too and must not wait for a batch's SQL.

    var isValid: Bool { state.withLockedValue { $0.valid } }

    var count: Int { state.withLockedValue { $0.versions.count } }

    /// `key`'s current version, `nil` for a new key (the writer, inside its transaction).
    func version(of key: Key) -> Version? {
        state.withLockedValue { $0.versions[key] }
    }

    /// Records `key`'s new version, written by the writer inside its transaction.
    func set(_ key: Key, _ version: Version) {
        state.withLockedValue { $0.versions[key] = version }
    }

    /// The transaction that wrote records up to `seq` committed.
    func markDurable(through seq: Int64) {
        state.withLockedValue { $0.durable = max($0.durable, seq) }
    }

    /// Whether `key`'s current version is durable and has a later `as_of` than `asOf`: a record
    /// of `key` as of `asOf` is then stale whatever else is under way (a durable later version
    /// never goes back). `false` when it does not know.
    func isDurablyNewer(_ key: Key, than asOf: Int64) -> Bool {
        guard let version = durableVersion(of: key) else { return false }
        return version.asOf > asOf
    }

    /// Whether the record `seq` of `key` is superseded by a durable later version: compaction
    /// may delete it. `false` when it does not know.
    func isSuperseded(_ key: Key, seq: Int64) -> Bool {
        guard let version = durableVersion(of: key) else { return false }
        return version.seq > seq
    }

    /// `key`'s current version if its transaction has committed; `nil` when it has not, or
    /// when the cache does not know.
    private func durableVersion(of key: Key) -> Version? {
        state.withLockedValue { state in
            guard state.valid, let version = state.versions[key], version.seq <= state.durable else { return nil }
            return version
        }
    }

    /// The current versions of the keys of `type` (the registry's towns or institutions, at start).
    func versions(ofType type: String) -> [Version] {
        state.withLockedValue { state in state.versions.compactMap { $0.key.type == type ? $0.value : nil } }
    }

    /// Forgets `key` if its current version is record `seq` (compaction deleted it).
    func remove(_ key: Key, ifSeq seq: Int64) {
        state.withLockedValue { state in
            if state.versions[key]?.seq == seq { state.versions[key] = nil }
        }
    }

    /// Forgets everything (a failed transaction: what it wrote was rolled back); the writer
    /// loads the log again before its next batch. What is durable stays so.
    func invalidate() {
        state.withLockedValue { state in
            state.versions = [:]
            state.valid = false
        }
    }
}
