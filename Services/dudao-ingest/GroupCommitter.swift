import DudaoCore
import DudaoFeeds
import DudaoObservability
import DudaoStorage
import DudaoWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Batches feeds from every connection into one durable transaction (group commit).
///
/// One writer thread takes whatever has queued up while the previous transaction was being
/// fsync'd, commits it as one transaction, and only then completes the waiting promises: every
/// `accepted` ack follows the fsync that made its record durable. Under load batches grow by
/// themselves; when idle a lone feed is committed at once.
final class GroupCommitter: Service, Sendable {
    private struct Pending {
        var request: CommitRequest
        var promise: ReplyPromise

        /// Completed with the reply frame to the feed (its ack or nack).
        enum ReplyPromise {
            case value(EventLoopPromise<JSONValue?>)
            /// The reply encoded: an ack written without a JSON value (``Reply/ackPayload(id:status:)``).
            case encoded(EventLoopPromise<ByteBuffer?>)
        }

        var eventLoop: any EventLoop {
            switch promise {
            case .value(let promise): promise.futureResult.eventLoop
            case .encoded(let promise): promise.futureResult.eventLoop
            }
        }

        /// Answers the feed for `outcome`.
        func complete(_ outcome: CommitOutcome) {
            switch promise {
            case .value(let promise): promise.succeed(GroupCommitter.reply(to: request, outcome))
            case .encoded(let promise):
                switch outcome.answer {
                case .success(let status): promise.succeed(Reply.ackPayload(id: request.feedID, status: status))
                case .failure(let error): promise.succeed(ByteBuffer(json: Reply.nack(id: request.feedID, error: error)))
                }
            }
        }
    }

    private let thread: BatchingThread<Pending>
    /// A batch of this many feeds counts as busy (at 1 ms a commit: 8 000 feeds a second).
    static let busyBatch = 8
    /// The registry as of the last commit: written by the writer thread, read by queries.
    private let registryBox: NIOLockedValueBox<Registry>

    /// A record a batch stored: its number and the feed.
    struct Stored: Sendable {
        var seq: Int64
        var request: CommitRequest
    }

    /// - Parameters:
    ///   - onBatch: called after every batch, once its replies are on their way: the highest
    ///     sequence number it wrote (0: none), the records it stored in order, and whether the
    ///     writer is busy (feeds are queued for the next batch, or were for this one, or the
    ///     batch holds ``busyBatch`` feeds or more).
    init(
        store: any IngestStore, maxBatch: Int, logger: Logger, metrics: IngestMetrics = IngestMetrics(),
        onBatch: @escaping @Sendable (_ highest: Int64, _ stored: [Stored], _ busy: Bool) -> Void
    ) throws {
        let registryBox = NIOLockedValueBox(try store.loadRegistry())
        self.registryBox = registryBox
        // Only the writer thread touches it.
        let lastQueued = NIOLockedValueBox(false)
        thread = BatchingThread(
            name: "dudao-ingest-writer", maxBatch: maxBatch,
            process: { batch, queued in
                let started = ContinuousClock.now
                let (outcomes, highest, stored) = Self.commit(batch, store: store, registryBox: registryBox, logger: logger)
                // Busy: feeds wait behind this batch, or it was itself taken from such a queue
                // (a large batch can take everything that waited, and leave none behind), or
                // it is large (many feeds came during one commit: the event loops, not the
                // writer, are what is short).
                let queuedNow = queued()
                let busy = lastQueued.withLockedValue { last in
                    defer { last = queuedNow }
                    return queuedNow || last || batch.count >= Self.busyBatch
                }
                onBatch(highest, stored, busy)
                metrics.commitTime.record(ContinuousClock.now - started)
                metrics.batchSize.record(batch.count)
                metrics.count(types: batch.lazy.map(\.request.currentKey.type), outcomes: outcomes)
            },
            refuse: { pending in
                let refusal = CommitOutcome.rejected(WireError(.overloaded, "the service is shutting down; retry later", zh: "服务正在停止，请稍后重试"))
                pending.complete(refusal)
            })
    }

    /// Starts the writer thread.
    func start() { thread.start() }

    /// Queues a feed; the promise completes with its reply after the batch holding it is
    /// durable. (The reply is made here, not in a `map` of the promise: one future less per feed.)
    func submit(_ request: CommitRequest, promise: EventLoopPromise<JSONValue?>) {
        thread.submit(Pending(request: request, promise: .value(promise)))
    }

    /// ``submit(_:promise:)`` for a reply written encoded.
    func submit(_ request: CommitRequest, encoded promise: EventLoopPromise<ByteBuffer?>) {
        thread.submit(Pending(request: request, promise: .encoded(promise)))
    }

    /// The reply frame to `request` for `outcome` (SPEC section 2: ack or nack).
    static func reply(to request: CommitRequest, _ outcome: CommitOutcome) -> JSONValue {
        switch outcome.answer {
        case .success(let status): Reply.ack(id: request.feedID, status: status)
        case .failure(let error): Reply.nack(id: request.feedID, error: error)
        }
    }

    /// A snapshot of the registry (towns and institutions), for queries.
    var registry: Registry { registryBox.withLockedValue { $0 } }

    /// Finishes what is queued, then stops the thread.
    func stop() { thread.stop() }

    /// Keeps the thread (started by `start()`, before the port opens) until graceful shutdown,
    /// then stops it: listed before the frame server, it stops after the server has answered
    /// every feed it read.
    func run() async throws {
        try? await gracefulShutdown()
        stop()
    }

    /// Commits `batch` and answers its feeds; returns their outcomes, the highest sequence number
    /// written (0: none) and the records stored.
    private static func commit(
        _ batch: [Pending], store: any IngestStore, registryBox: NIOLockedValueBox<Registry>, logger: Logger
    ) -> (outcomes: [CommitOutcome], highest: Int64, stored: [Stored]) {
        var registry = registryBox.withLockedValue { $0 }
        do {
            let outcomes = try store.commit(batch.map(\.request), registry: &registry, now: .now())
            registryBox.withLockedValue { $0 = registry }
            var highest: Int64 = 0
            var stored: [Stored] = []
            // One task per event loop completes its connections' promises together, so each
            // connection writes this batch's acks with one flush.
            var byLoop: [ObjectIdentifier: (loop: any EventLoop, done: [(Pending, CommitOutcome)])] = [:]
            for (pending, outcome) in zip(batch, outcomes) {
                if case .accepted(let seq) = outcome {
                    highest = max(highest, seq)
                    stored.append(Stored(seq: seq, request: pending.request))
                }
                let loop = pending.eventLoop
                byLoop[ObjectIdentifier(loop), default: (loop, [])].done.append((pending, outcome))
            }
            for (loop, done) in byLoop.values {
                loop.execute { for (pending, outcome) in done { pending.complete(outcome) } }
            }
            return (outcomes, highest, stored)
        } catch {
            logger.error("commit failed; the batch is answered internal", metadata: ["error": "\(error)", "size": "\(batch.count)"])
            let failed = CommitOutcome.rejected(WireError(.internal, "storing the feed failed; retry later", zh: "数据保存失败，请稍后重试"))
            for pending in batch { pending.complete(failed) }
            return (batch.map { _ in failed }, 0, [])
        }
    }
}
