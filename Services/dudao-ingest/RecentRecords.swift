import DudaoCore
import DudaoFeeds
import DudaoWire
import NIOConcurrencyHelpers
import NIOCore

/// The record frames of the latest records this instance committed, each built once (the first
/// time a subscription is handed it) and shared by every subscription at the head of the log:
/// the writer keeps only what it stored. A consumer that keeps up is sent
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
        fileprivate var content: Content
        /// Counted against the byte budget: the frame's size, or for a record kept as stored its
        /// body and 200 bytes (about the frame's size: the stored request's parsed fields come on top).
        fileprivate let size: Int

        fileprivate enum Content: Sendable {
            case frame(ByteBuffer)
            /// Built the first time a subscription is handed the record: the writer only keeps
            /// what it stored, so a burst's frames are built after the burst when news of it is
            /// held back (``LogHub``), not on the writer thread while feeds wait.
            case stored(CommitRequest)
        }

        init(seq: Int64, type: String, frame: ByteBuffer) {
            self.seq = seq
            self.type = type
            content = .frame(frame)
            size = frame.readableBytes
        }

        /// A record just stored; its frame is built when first asked for.
        init(_ stored: GroupCommitter.Stored) {
            seq = stored.seq
            type = stored.request.feed.type.rawValue
            content = .stored(stored.request)
            size = stored.request.body.count + 200
        }

        /// The record frame (the same bytes a read of the store would give).
        var frame: ByteBuffer {
            switch content {
            case .frame(let frame): frame
            case .stored(let request):
                Frame.Record.encode(
                    seq: seq, type: type, sender: request.sender, feedID: request.feedID, key: request.feed.key,
                    asOfMillis: request.asOfMillis, receivedAtMillis: request.receivedAt.millis, bodyUTF8: request.body)
            }
        }

        /// Builds the frame if it is not yet.
        fileprivate mutating func build() {
            if case .stored = content { content = .frame(frame) }
        }
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
    func append(_ added: [GroupCommitter.Stored]) {
        append(added.lazy.map(Record.init))
    }

    func append(_ added: some Collection<Record>) {
        guard !added.isEmpty else { return }
        held.withLockedValue { held in
            for record in added {
                while let oldest = held.records.first, held.records.count >= capacity || held.bytes + record.size > byteBudget {
                    held.bytes -= oldest.size
                    held.records.removeFirst()
                }
                held.records.append(record)
                held.bytes += record.size
            }
        }
    }

    /// Up to `limit` records numbered `from`, `from + 1`, … without a gap, none past `head`,
    /// their frames built; empty when `from` is not held (the caller reads the store).
    func run(from: Int64, through head: Int64, limit: Int) -> [(seq: Int64, type: String, frame: ByteBuffer)] {
        held.withLockedValue { held in
            guard let first = held.records.first, let last = held.records.last, from >= first.seq, from <= last.seq, from <= head else {
                return []
            }
            // Sequence numbers are consecutive unless another instance committed in between.
            var index = held.records.index(held.records.startIndex, offsetBy: Int(min(from - first.seq, Int64(held.records.count - 1))))
            while held.records[index].seq > from, index > held.records.startIndex { index = held.records.index(before: index) }
            guard held.records[index].seq == from else { return [] }
            var run: [(seq: Int64, type: String, frame: ByteBuffer)] = []
            var expected = from
            while index < held.records.endIndex, run.count < limit, held.records[index].seq == expected, expected <= head {
                held.records[index].build()
                let record = held.records[index]
                run.append((record.seq, record.type, record.frame))
                expected += 1
                index = held.records.index(after: index)
            }
            return run
        }
    }
}
