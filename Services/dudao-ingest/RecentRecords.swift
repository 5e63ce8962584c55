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
///
/// It holds the last `capacity` records, and no more than `byteBudget` bytes of frames: a
/// consumer that falls behind by a burst (its CPU shared with the ingest's on one host) catches
/// up from here too. Read from the store instead, every record it lacks would be read and
/// encoded again for it alone, while the ingest is busiest (with a window of 4 096 records,
/// that cost the ingest about 15 % more CPU per heartbeat with two consumers 128 000 records
/// behind).
final class RecentRecords: Sendable {
    struct Record: Sendable {
        var seq: Int64
        /// The feed type, for subscriptions that filter by type.
        var type: String
        var frame: ByteBuffer
    }

    private struct Held {
        var records: CircularBuffer<Record>
        var bytes = 0
    }

    private let capacity: Int
    private let byteBudget: Int
    private let held: NIOLockedValueBox<Held>

    /// 65 536 heartbeats' frames are about 30 MB.
    init(capacity: Int = 65_536, byteBudget: Int = 64 * 1_048_576) {
        self.capacity = capacity
        self.byteBudget = byteBudget
        held = NIOLockedValueBox(Held(records: CircularBuffer(initialCapacity: min(capacity, 4096))))
    }

    /// Adds records just committed, in sequence order; the oldest beyond the capacity or the
    /// byte budget go.
    func append(_ added: [Record]) {
        guard !added.isEmpty else { return }
        held.withLockedValue { held in
            for record in added {
                let size = record.frame.readableBytes
                while let oldest = held.records.first, held.records.count >= capacity || held.bytes + size > byteBudget {
                    held.bytes -= oldest.frame.readableBytes
                    held.records.removeFirst()
                }
                held.records.append(record)
                held.bytes += size
            }
        }
    }

    /// Up to `limit` records numbered `from`, `from + 1`, … without a gap, none past `head`;
    /// empty when `from` is not held (the caller reads the store).
    func run(from: Int64, through head: Int64, limit: Int) -> [Record] {
        held.withLockedValue { held in
            let records = held.records
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
