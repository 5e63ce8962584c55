import DudaoCore
import DudaoFeeds
import DudaoWire
import NIOConcurrencyHelpers
import NIOCore

/// The record frames of the latest records this instance committed, built once by the writer
/// and shared by every subscription at the head of the log: a consumer that keeps up is sent
/// these frames as they are, with no read of the store and no frame built for it alone. A
/// consumer further behind (or a record another instance committed, on PostgreSQL) is read
/// from the store as before.
final class RecentRecords: Sendable {
    struct Record: Sendable {
        var seq: Int64
        /// The feed type, for subscriptions that filter by type.
        var type: String
        var frame: ByteBuffer
    }

    private let capacity: Int
    private let records: NIOLockedValueBox<CircularBuffer<Record>>

    init(capacity: Int = 4096) {
        self.capacity = capacity
        records = NIOLockedValueBox(CircularBuffer(initialCapacity: capacity))
    }

    /// Adds records just committed, in sequence order; the oldest beyond the capacity go.
    func append(_ added: [Record]) {
        guard !added.isEmpty else { return }
        records.withLockedValue { records in
            for record in added {
                if records.count == capacity { records.removeFirst() }
                records.append(record)
            }
        }
    }

    /// Up to `limit` records numbered `from`, `from + 1`, … without a gap, none past `head`;
    /// empty when `from` is not held (the caller reads the store).
    func run(from: Int64, through head: Int64, limit: Int) -> [Record] {
        records.withLockedValue { records in
            guard let first = records.first, let last = records.last, from >= first.seq, from <= last.seq, from <= head else {
                return []
            }
            // Sequence numbers are consecutive unless another instance committed in between.
            var index = records.index(records.startIndex, offsetBy: Int(min(from - first.seq, Int64(records.count - 1))))
            while records[index].seq > from, index > records.startIndex { index = records.index(before: index) }
            guard records[index].seq == from else { return [] }
            var run: [Record] = []
            var expected = from
            while index < records.endIndex, run.count < limit, records[index].seq == expected, expected <= head {
                run.append(records[index])
                expected += 1
                index = records.index(after: index)
            }
            return run
        }
    }
}

extension RecentRecords.Record {
    /// The record frame of a record just stored (the same bytes a read of the store would give).
    init(_ stored: GroupCommitter.Stored) {
        let request = stored.request
        let type = request.feed.type.rawValue
        self.init(
            seq: stored.seq, type: type,
            frame: Frame.Record.encode(
                seq: stored.seq, type: type, sender: request.sender, feedID: request.feedID, key: request.feed.key,
                asOfMillis: request.asOfMillis, receivedAtMillis: request.receivedAt.millis, bodyUTF8: request.body))
    }
}
