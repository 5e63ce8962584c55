import NIOConcurrencyHelpers

/// The (sender, id) pairs the SQLite store has stored within the dedupe window, as a filter that
/// answers "certainly not stored" or "perhaps": a feed it has never been told of needs no lookup
/// in the `dedupe` table, and may be answered `stale` without the writer thread
/// (``FastAdmission``).
///
/// It never forgets a pair it was told of while the pair is within the window; it may answer
/// "perhaps" for one it was not told of (about one in a thousand when a generation is full), and
/// that costs a lookup, never a wrong answer. Pairs are hashed with Swift's `Hasher` (seeded per
/// process: the filter lives in memory only and is rebuilt from the table at start).
///
/// Split block Bloom filters in generations: a generation takes pairs until it is full or a
/// quarter of the window old (at least a minute), then a new one begins (each twice the size of the last, up to
/// 2^20 pairs, 2 MiB); a generation goes once the newest pair it holds is older than the window
/// and a quarter.
final class SeenFeeds: Sendable {
    private struct Generation {
        /// 8 words of 32 bits per block; a pair sets one bit in each word of one block.
        var words: [UInt32]
        var capacity: Int
        var count = 0
        var oldest: Int64
        var newest: Int64

        init(capacity: Int, at millis: Int64) {
            self.capacity = capacity
            // 16 bits per pair: about 0.1 % "perhaps" for pairs never told, when full.
            words = Array(repeating: 0, count: capacity * 16 / 32)
            oldest = millis
            newest = millis
        }

        private static let salts: [UInt32] = [
            0x47b6_137b, 0x4497_4d91, 0x8824_ad5b, 0xa2b7_289d, 0x7054_95c7, 0x2df1_424b, 0x9efc_4947, 0x5c6b_fb31,
        ]

        private func block(_ hash: UInt64) -> Int {
            Int(truncatingIfNeeded: ((hash >> 32) &* UInt64(words.count / 8)) >> 32) * 8
        }

        private static func bit(_ hash: UInt64, _ word: Int) -> UInt32 {
            1 << ((UInt32(truncatingIfNeeded: hash) &* salts[word]) >> 27)
        }

        mutating func insert(_ hash: UInt64, at millis: Int64) {
            let block = block(hash)
            for word in 0..<8 { words[block + word] |= Self.bit(hash, word) }
            count += 1
            newest = max(newest, millis)
        }

        func mayContain(_ hash: UInt64) -> Bool {
            let block = block(hash)
            for word in 0..<8 where words[block + word] & Self.bit(hash, word) == 0 { return false }
            return true
        }
    }

    private struct State {
        var generations: [Generation] = []
    }

    private let windowMillis: Int64
    private let state = NIOLockedValueBox(State())
    private static let firstCapacity = 1 << 14
    private static let largestCapacity = 1 << 20

    /// - Parameter windowMillis: how long a stored pair answers `duplicate` (the dedupe window).
    init(windowMillis: Int64) { self.windowMillis = windowMillis }

    /// A pair's hash, for ``insert(_:at:)`` and ``mayContain(_:)``: the writer asks, then tells,
    /// and hashes once.
    static func hash(sender: String, id: String) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(sender)
        hasher.combine(id)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// Tells the filter that `sender` stored `id` at `millis` (when it was received).
    func insert(sender: String, id: String, at millis: Int64) {
        insert(Self.hash(sender: sender, id: id), at: millis)
    }

    /// Tells the filter of the pair with `hash` (``hash(sender:id:)``).
    func insert(_ hash: UInt64, at millis: Int64) {
        state.withLockedValue { state in
            if let last = state.generations.last, last.count < last.capacity, millis - last.oldest < max(windowMillis / 4, 60_000) {
                state.generations[state.generations.count - 1].insert(hash, at: millis)
                return
            }
            // Generations whose every pair left the window a while ago (a quarter of it more: the
            // clock may step back); the rest stay.
            state.generations.removeAll { $0.newest < millis - windowMillis - windowMillis / 4 }
            let capacity = min((state.generations.last?.capacity ?? Self.firstCapacity / 2) * 2, Self.largestCapacity)
            var generation = Generation(capacity: capacity, at: millis)
            generation.insert(hash, at: millis)
            state.generations.append(generation)
        }
    }

    /// `false` when `sender` has certainly not stored `id` within the window; `true` when it
    /// perhaps has (look it up).
    func mayContain(sender: String, id: String) -> Bool {
        mayContain(Self.hash(sender: sender, id: id))
    }

    /// ``mayContain(sender:id:)`` for the pair with `hash`.
    func mayContain(_ hash: UInt64) -> Bool {
        state.withLockedValue { state in state.generations.contains { $0.mayContain(hash) } }
    }

    /// How many generations it holds and how many bytes they take (for tests).
    var size: (generations: Int, bytes: Int) {
        state.withLockedValue { state in (state.generations.count, state.generations.reduce(0) { $0 + $1.words.count * 4 }) }
    }
}
