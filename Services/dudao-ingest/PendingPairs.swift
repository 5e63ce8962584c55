import NIOConcurrencyHelpers
import NIOCore

/// The (sender, id) pairs of the SQLite store's newest records that are not yet in its `dedupe`
/// table. A commit writes a record to the log only; its pair is copied from the log into `dedupe`
/// later, many at a time in one `INSERT … SELECT` (measured: about 40 % fewer instructions a pair
/// than an inserted row each), and not while a burst keeps the writer busy. The log holds every
/// pending pair, so a crash loses none: at start the store reads them again from the records past
/// ``through``, which the `dedupe_mark` table keeps with the copied pairs.
///
/// Kept here as hash (``SeenFeeds/hash(sender:id:)``) → record number, in record order; a lookup
/// reads the record to compare sender and id, since two pairs may share a hash. A pair stored
/// again (after its window) takes the place of its earlier record, so a sender re-using one id
/// keeps one entry, not a list to scan. A graceful stop copies every pending pair, so that a
/// build from before them reads a complete `dedupe` (after a `kill -9` it would miss the pending
/// ones: start this build once and stop it before going back). Touched by the
/// store's writer thread and by compaction, whose transactions SQLite runs one at a time.
final class PendingPairs: Sendable {
    private struct State {
        var through: Int64
        /// Oldest first.
        var pairs = CircularBuffer<(hash: UInt64, seq: Int64)>(initialCapacity: 1024)
        /// The newest record of each hash (a pair stored again replaces its earlier record).
        var byHash: [UInt64: Int64] = [:]
        /// Pairs whose hash another pending pair already had (rare: 64-bit hashes).
        var collided: [(hash: UInt64, seq: Int64)] = []

        /// The record number of the `count`-th oldest pending pair (nil: none, or `count` is 0).
        func lastOfOldest(_ count: Int) -> Int64? {
            guard count > 0, !pairs.isEmpty else { return nil }
            return pairs[pairs.index(pairs.startIndex, offsetBy: min(count, pairs.count) - 1)].seq
        }
    }

    /// How many pairs wait, and how many are copied at once.
    struct Limits: Sendable {
        /// At most this many pairs wait (about 5 MB); past it each commit copies as many as it adds.
        var limit = 131_072
        /// A light commit (the writer is not pressed) copies pending pairs once this many wait...
        var lightMinimum = 1024
        /// ...and at most this many at once (a few milliseconds of the writer); compaction too.
        var chunk = 4096
    }

    private let state: NIOLockedValueBox<State>
    let limits: Limits

    /// - Parameter through: records up to this number have their pairs in `dedupe`.
    init(through: Int64, limits: Limits = Limits()) {
        state = NIOLockedValueBox(State(through: through))
        self.limits = limits
    }

    /// Records up to this number have their pairs in `dedupe`; the later ones are pending.
    var through: Int64 { state.withLockedValue { $0.through } }

    var count: Int { state.withLockedValue { $0.pairs.count } }

    /// The record numbers of pending pairs with `hash` (compare the records' sender and id).
    func seqs(hash: UInt64) -> [Int64] {
        state.withLockedValue { state in
            guard let seq = state.byHash[hash] else { return [] }
            return [seq] + state.collided.lazy.filter { $0.hash == hash }.map(\.seq)
        }
    }

    /// Adds the pair of record `seq` (numbers come in increasing order); `earlier`: the pending
    /// record of the same pair, which this one replaces (the lookup found it).
    func append(hash: UInt64, seq: Int64, replacing earlier: Int64? = nil) {
        state.withLockedValue { state in
            state.pairs.append((hash, seq))
            if let earlier, state.byHash[hash] == earlier {
                state.byHash[hash] = seq
            } else if let earlier, let index = state.collided.firstIndex(where: { $0 == (hash, earlier) }) {
                state.collided[index].seq = seq
            } else if state.byHash[hash] == nil {
                state.byHash[hash] = seq
            } else {
                state.collided.append((hash, seq))
            }
        }
    }

    /// The last record number whose pair the next commit should copy (nil: none), given that it
    /// adds `adding` records and is `light`: past the limit, as many of the oldest as bring it
    /// back to the limit; on a light commit with ``Limits/lightMinimum`` waiting, up to ``Limits/chunk``.
    func copyThrough(adding: Int, light: Bool) -> Int64? {
        state.withLockedValue { state in
            let pending = state.pairs.count
            var copy = 0
            if pending + adding > limits.limit { copy = min(pending, pending + adding - limits.limit) }
            if light, pending >= limits.lightMinimum { copy = max(copy, min(pending, limits.chunk)) }
            return state.lastOfOldest(copy)
        }
    }

    /// The oldest pending pairs, up to `count` of them: the last one's record number (nil: none).
    func oldest(_ count: Int) -> Int64? {
        state.withLockedValue { $0.lastOfOldest(count) }
    }

    /// The pairs of records up to `seq` are in `dedupe` now (their transaction committed).
    func copied(through seq: Int64) {
        state.withLockedValue { state in
            state.through = max(state.through, seq)
            while let first = state.pairs.first, first.seq <= seq {
                state.pairs.removeFirst()
                if state.byHash[first.hash] == first.seq {
                    state.byHash[first.hash] = nil
                    // A collided pair with this hash takes its place.
                    if let index = state.collided.firstIndex(where: { $0.hash == first.hash }) {
                        state.byHash[first.hash] = state.collided.remove(at: index).seq
                    }
                } else if let index = state.collided.firstIndex(where: { $0 == first }) {
                    state.collided.remove(at: index)
                }
                // Else a record whose pair was stored again: the later record stands for it.
            }
        }
    }
}
