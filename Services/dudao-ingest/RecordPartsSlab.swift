/// Memory the writer copies the parts of the records it keeps for subscribers into
/// (``RecentRecords``): the sender, the feed id, the key and the body of one record after
/// another, a megabyte at a time.
///
/// Kept as they were, a record's strings and body held on to pieces of each stored request
/// while the rest of it was freed: with 65 536 records kept through a burst, malloc worked
/// through a fragmented heap (`_int_malloc`, `unlink_chunk`, `malloc_consolidate`) and the
/// ingest spent about a quarter more CPU per heartbeat with subscribers than without, even with
/// nothing sent to them (perf, 64 × 64). Copied here, the request is freed whole, and a slab goes
/// once the last record in it is evicted or its frame built.
final class RecordPartsSlab: @unchecked Sendable {
    // @unchecked: the bytes are written only by `RecentRecords`' writer, under its lock, each
    // region once (past `used`) and before the record pointing at it is published under that
    // lock; afterwards a region is only read, by whoever builds the record's frame. `used` is
    // read and written only under the lock.
    private let memory: UnsafeMutableBufferPointer<UInt8>
    private var used = 0

    /// A slab's usual size; a record larger than that gets a slab of its own size.
    static let size = 1 << 20

    init(capacity: Int) {
        memory = .allocate(capacity: max(capacity, 1))
    }

    deinit { memory.deallocate() }

    /// Bytes still free.
    var free: Int { memory.count - used }

    /// Where the next ``append(_:)`` writes.
    var end: Int { used }

    /// Copies `piece` into the free part, after what was copied before (the caller checked
    /// that the record's parts fit).
    func append(_ piece: UnsafeBufferPointer<UInt8>) {
        guard !piece.isEmpty else { return }
        precondition(piece.count <= free, "a record's parts must fit in its slab")
        _ = UnsafeMutableBufferPointer(rebasing: memory[used..<used + piece.count]).initialize(from: piece)
        used += piece.count
    }

    /// `count` bytes from `offset`, written earlier by ``append(_:)``.
    func bytes(at offset: Int, count: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: memory[offset..<offset + count])
    }
}
