import DudaoCore
import DudaoWire
import Logging
import NIOCore
import NIOPosix

/// Streams the ingest log to one downstream consumer with credit-based flow control.
///
/// The consumer says where to start (`from`: the first sequence number it lacks) and how many
/// records it can take (`credit`); each `record` frame spends one credit, and the consumer
/// grants more with `credit` frames as it commits what it processed (reporting the position
/// it has durably committed, which lets the ingest compact). Nothing is pushed beyond the
/// credit, so a slow consumer costs the ingest nothing but a cursor.
final class LogSubscription {
    private let store: any IngestStore
    private let hub: LogHub
    private let recent: RecentRecords
    private let channel: any Channel
    private let threadPool: NIOThreadPool
    /// The types the subscription takes (none: every type).
    private var types: TypePatterns
    private let logger: Logger
    private var next: Int64
    /// The last record sent to the consumer (`from - 1` before any).
    private var lastSent: Int64
    /// The last position the consumer reported committed (`from - 1` at first).
    private var committed: Int64
    /// Told a position the consumer has passed without being sent anything (records its type
    /// filter leaves out, after everything it was sent is committed).
    private let passedFiltered: (Int64) -> Void
    private var credit: Int
    private var head: Int64 = 0
    private var reading = false
    private var closed = false
    private var token: Int?
    /// `keepalive_seconds` of the subscribe: a `keepalive` frame after that long without a
    /// frame, so a consumer can tell a quiet log from a cut link (`nil`: none).
    private let keepalive: TimeAmount?
    private var lastWrite = NIODeadline.now()
    private var keepaliveTask: RepeatedTask?
    /// The connection's frame writer, handed record frames directly (``FrameWriter/append(_:context:)``).
    private var writer: (handler: FrameWriter, context: ChannelHandlerContext)?

    /// Records per read from the store.
    static let readChunk = 512

    init(
        from: Int64, credit: Int, types: [String], store: any IngestStore, hub: LogHub, recent: RecentRecords, channel: any Channel,
        threadPool: NIOThreadPool, logger: Logger, keepalive: TimeAmount? = nil, passedFiltered: @escaping (Int64) -> Void = { _ in }
    ) {
        self.recent = recent
        self.passedFiltered = passedFiltered
        self.keepalive = keepalive
        self.next = max(from, 1)
        self.lastSent = max(from, 1) - 1
        self.committed = max(from, 1) - 1
        self.credit = credit
        self.types = TypePatterns(types)
        self.store = store
        self.hub = hub
        self.channel = channel
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Starts listening for new records and sends what is already there.
    func start() {
        let pipeline = channel.pipeline.syncOperations
        if let handler = try? pipeline.handler(type: FrameWriter.self), let context = try? pipeline.context(handlerType: FrameWriter.self) {
            writer = (handler, context)
        }
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        let loop = channel.eventLoop
        let registration = hub.add { seq in
            loop.execute { bound.value.logGrew(to: seq) }
        }
        token = registration.token
        head = registration.head
        if let keepalive {
            keepaliveTask = loop.scheduleRepeatedTask(initialDelay: keepalive, delay: keepalive) { _ in
                bound.value.keepaliveTick(every: keepalive)
            }
        }
        pump()
    }

    /// `{"v":1,"kind":"keepalive","id":"keepalive","body":{"head":N}}` when nothing else went out for a period.
    private func keepaliveTick(every period: TimeAmount) {
        guard !closed, NIODeadline.now() - lastWrite >= period - .milliseconds(50) else { return }
        lastWrite = .now()
        channel.writeAndFlush(ByteBuffer(json: Frame.keepalive(head: head)), promise: nil)
    }

    /// The consumer reports it has committed everything up to `position`; the position to
    /// store for it: past the records its filter left out too, once it has everything it was sent.
    func consumerCommitted(_ position: Int64) -> Int64 {
        committed = max(committed, position)
        return committed >= lastSent ? max(committed, next - 1) : committed
    }

    func grant(_ more: Int) {
        credit = min(credit + more, 1_000_000)
        pump()
    }

    func close() {
        closed = true
        writer = nil
        keepaliveTask?.cancel()
        keepaliveTask = nil
        if let token { hub.remove(token) }
        token = nil
    }

    private func logGrew(to seq: Int64) {
        head = max(head, seq)
        pump()
    }

    private func pump() {
        guard !closed, !reading, credit > 0, next <= head else { return }
        // At the head of the log: the records the writer kept, their frames built once and
        // shared with every subscription.
        var shared = recent.run(from: next, through: head, limit: min(credit, Self.readChunk))
        while !shared.isEmpty {
            for record in shared { deliver(seq: record.seq, type: record.type, frame: record.frame) }
            channel.flush()
            lastWrite = .now()
            notePassedFiltered()
            guard credit > 0, next <= head else { return }
            shared = recent.run(from: next, through: head, limit: min(credit, Self.readChunk))
        }
        reading = true
        // Rows up to this head were committed before the read starts, so the read sees them;
        // rows committed while it runs may or may not be in it (the head moves meanwhile).
        let readHead = head
        let after = next - 1
        let limit = min(credit, Self.readChunk)
        let store = self.store
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        threadPool.runIfActive(eventLoop: channel.eventLoop) {
            try store.readLog(after: after, limit: limit)
        }.whenComplete { result in
            let subscription = bound.value
            subscription.reading = false
            switch result {
            case .success(let entries):
                subscription.send(entries, limit: limit, readHead: readHead)
            case .failure(let error):
                subscription.logger.error("reading the log failed", metadata: ["error": "\(error)"])
                subscription.channel.close(promise: nil)
            }
        }
    }

    private func send(_ entries: [LogEntry], limit: Int, readHead: Int64) {
        guard !closed else { return }
        for entry in entries {
            deliver(seq: entry.seq, type: entry.type, frame: Self.frame(for: entry))
        }
        if entries.count < limit {
            // A short read saw every row committed up to `readHead`: any gap below it was
            // compacted away. Never skip past `readHead`: rows committed during the read may
            // have been invisible to it.
            next = max(next, readHead + 1)
        }
        channel.flush()
        lastWrite = .now()
        notePassedFiltered()
        pump()
    }

    /// With everything it was sent committed, a consumer whose filter left out the records
    /// since has passed them too: without this, a consumer whose types stop at a record it
    /// does not take would sit one position short of the head (its lag never zero, compaction
    /// held back) until a record of its types comes.
    private func notePassedFiltered() {
        if committed >= lastSent, next - 1 > committed { passedFiltered(next - 1) }
    }

    /// Writes one record's frame (not flushed), unless the subscription filters its type out.
    private func deliver(seq: Int64, type: String, frame: @autoclosure () -> ByteBuffer) {
        next = seq + 1
        if !types.isEmpty, !types.match(type) { return }
        if let writer {
            writer.handler.append(frame(), context: writer.context)
        } else {
            channel.write(frame(), promise: nil)
        }
        lastSent = seq
        credit -= 1
    }

    /// The record frame of `entry` (``Frame/Record/encode(seq:type:sender:feedID:key:asOfMillis:receivedAtMillis:bodyJSON:)``:
    /// the stored body spliced in, not parsed again).
    static func frame(for entry: LogEntry) -> ByteBuffer {
        Frame.Record.encode(
            seq: entry.seq, type: entry.type, sender: entry.sender, feedID: entry.feedID, key: entry.key, asOfMillis: entry.asOf,
            receivedAtMillis: entry.receivedAt, bodyJSON: entry.body)
    }
}
