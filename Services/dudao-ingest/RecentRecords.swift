import DudaoCore
import DudaoFeeds
import DudaoWire
import NIOConcurrencyHelpers
import NIOCore

/// The record frames of the latest records this instance committed, each built once (the first
/// time a subscription is handed it) and shared by every subscription at the head of the log:
/// the writer keeps only what a frame is made of. A consumer that keeps up is sent
/// these frames as they are, with no read of the store and no frame built for it alone. A
/// consumer further behind (or a record another instance committed, on PostgreSQL) is read
/// from the store as before.
///
/// It holds the last `capacity` records, and no more than `byteBudget` bytes of frames (or of
/// what they are made of, counted as the frame they make): a
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
        /// Counted against the byte budget: the frame's size (estimated before it is built).
        fileprivate let size: Int

        fileprivate enum Content: Sendable {
            case frame(ByteBuffer)
            /// Built the first time a subscription is handed the record: the writer only keeps
            /// what the frame is made of, so a burst's frames are built after the burst when news
            /// of it is held back (``LogHub``), not on the writer thread while feeds wait.
            case parts(Parts)
        }

        /// What a record frame is made of: the sender, feed id, key and body copied one after
        /// another into a slab (``RecordPartsSlab``), so that the stored request is freed whole.
        fileprivate struct Parts: Sendable {
            let slab: RecordPartsSlab
            let offset: Int
            let senderCount: Int32
            let feedIDCount: Int32
            let keyCount: Int32
            let bodyCount: Int32
            let asOfMillis: Int64
            let receivedAtMillis: Int64

            /// How many bytes the parts of `request` take in a slab.
            static func count(_ request: CommitRequest) -> Int {
                request.sender.utf8.count + request.feedID.utf8.count + request.currentKey.key.utf8.count + request.body.count
            }

            /// Copies the parts of `request` into `slab` (which has room: ``count(_:)``).
            init(_ request: CommitRequest, into slab: RecordPartsSlab) {
                var sender = request.sender
                var feedID = request.feedID
                var key = request.currentKey.key
                self.slab = slab
                offset = slab.end
                senderCount = Int32(sender.withUTF8 { slab.append($0); return $0.count })
                feedIDCount = Int32(feedID.withUTF8 { slab.append($0); return $0.count })
                keyCount = Int32(key.withUTF8 { slab.append($0); return $0.count })
                bodyCount = Int32(request.body.withUnsafeBufferPointer { slab.append($0); return $0.count })
                asOfMillis = request.asOfMillis
                receivedAtMillis = request.receivedAt.millis
            }

            func frame(seq: Int64, type: String) -> ByteBuffer {
                var offset = self.offset
                func next(_ count: Int32) -> UnsafeBufferPointer<UInt8> {
                    defer { offset += Int(count) }
                    return slab.bytes(at: offset, count: Int(count))
                }
                return Frame.Record.encode(
                    seq: seq, type: type, senderUTF8: next(senderCount), feedIDUTF8: next(feedIDCount), keyUTF8: next(keyCount),
                    asOfMillis: asOfMillis, receivedAtMillis: receivedAtMillis, bodyUTF8: next(bodyCount))
            }
        }

        init(seq: Int64, type: String, frame: ByteBuffer) {
            self.seq = seq
            self.type = type
            content = .frame(frame)
            size = frame.readableBytes
        }

        /// A record just stored, its parts copied into `slab`; its frame is built when first
        /// asked for.
        init(_ stored: GroupCommitter.Stored, slab: RecordPartsSlab) {
            let request = stored.request
            let parts = Parts(request, into: slab)
            seq = stored.seq
            // The type's literal (no reference to count), not the string the frame was read into.
            type = request.feed.type.rawValue
            content = .parts(parts)
            // The frame's fixed text and numbers are under 150 bytes.
            size = Int(parts.senderCount + parts.feedIDCount + parts.keyCount + parts.bodyCount) + type.utf8.count + 150
        }

        /// A record just stored, in a slab of its own.
        init(_ stored: GroupCommitter.Stored) {
            self.init(stored, slab: RecordPartsSlab(capacity: Parts.count(stored.request)))
        }

        /// The record frame (the same bytes a read of the store would give).
        var frame: ByteBuffer {
            switch content {
            case .frame(let frame): frame
            case .parts(let parts): parts.frame(seq: seq, type: type)
            }
        }

        var isBuilt: Bool {
            if case .frame = content { return true }
            return false
        }
    }

    private struct Held {
        var records: CircularBuffer<Record>
        var bytes = 0
        /// Where the parts of the records the writer adds go.
        var slab: RecordPartsSlab?
    }

    private let capacity: Int
    private let byteBudget: Int
    private let slabSize: Int
    private let held: NIOLockedValueBox<Held>

    /// 131 072 heartbeats' frames are about 60 MB, just under the byte budget: as many as
    /// `delivery.hold_records` holds news of, so that a burst held back is sent from here.
    init(capacity: Int = 131_072, byteBudget: Int = 64 * 1_048_576, slabSize: Int = RecordPartsSlab.size) {
        self.capacity = capacity
        self.byteBudget = byteBudget
        self.slabSize = slabSize
        held = NIOLockedValueBox(Held(records: CircularBuffer(initialCapacity: min(capacity, 4096))))
    }

    /// Adds records just committed, in sequence order, their parts copied into the current slab
    /// (a new one when they do not fit); the oldest beyond the capacity or the byte budget go.
    func append(_ added: [GroupCommitter.Stored]) {
        guard !added.isEmpty else { return }
        held.withLockedValue { held in
            for stored in added {
                let count = Record.Parts.count(stored.request)
                let slab: RecordPartsSlab
                if let current = held.slab, current.free >= count {
                    slab = current
                } else {
                    slab = RecordPartsSlab(capacity: max(slabSize, count))
                    held.slab = slab
                }
                Self.add(Record(stored, slab: slab), to: &held, capacity: capacity, byteBudget: byteBudget)
            }
        }
    }

    func append(_ added: some Collection<Record>) {
        guard !added.isEmpty else { return }
        held.withLockedValue { held in
            for record in added { Self.add(record, to: &held, capacity: capacity, byteBudget: byteBudget) }
        }
    }

    private static func add(_ record: Record, to held: inout Held, capacity: Int, byteBudget: Int) {
        while let oldest = held.records.first, held.records.count >= capacity || held.bytes + record.size > byteBudget {
            held.bytes -= oldest.size
            held.records.removeFirst()
        }
        held.records.append(record)
        held.bytes += record.size
    }

    /// Up to `limit` records numbered `from`, `from + 1`, … without a gap, none past `head`,
    /// their frames built; empty when `from` is not held (the caller reads the store).
    ///
    /// Frames not yet built are built outside the lock (the writer appends under it), then kept
    /// for the next subscription.
    func run(from: Int64, through head: Int64, limit: Int) -> [(seq: Int64, type: String, frame: ByteBuffer)] {
        var records = held.withLockedValue { held -> [Record] in
            guard let first = held.records.first, let last = held.records.last, from >= first.seq, from <= last.seq, from <= head else {
                return []
            }
            // Sequence numbers are consecutive unless another instance committed in between.
            var index = held.records.index(held.records.startIndex, offsetBy: Int(min(from - first.seq, Int64(held.records.count - 1))))
            while held.records[index].seq > from, index > held.records.startIndex { index = held.records.index(before: index) }
            guard held.records[index].seq == from else { return [] }
            var run: [Record] = []
            var expected = from
            while index < held.records.endIndex, run.count < limit, held.records[index].seq == expected, expected <= head {
                run.append(held.records[index])
                expected += 1
                index = held.records.index(after: index)
            }
            return run
        }
        var built: [Int] = []
        for index in records.indices where !records[index].isBuilt {
            records[index].content = .frame(records[index].frame)
            built.append(index)
        }
        if !built.isEmpty { keep(built.map { records[$0] }) }
        return records.map { ($0.seq, $0.type, $0.frame) }
    }

    /// Puts frames just built in place of their parts (records since evicted, or built by
    /// another subscription meanwhile, are left as they are).
    private func keep(_ built: [Record]) {
        held.withLockedValue { held in
            guard let first = held.records.first else { return }
            for record in built {
                let offset = record.seq - first.seq
                guard offset >= 0, offset < Int64(held.records.count) else { continue }
                let index = held.records.index(held.records.startIndex, offsetBy: Int(offset))
                // Another instance's records leave gaps: the offset is then not the record's place.
                guard held.records[index].seq == record.seq, !held.records[index].isBuilt else { continue }
                held.records[index].content = record.content
            }
        }
    }
}
