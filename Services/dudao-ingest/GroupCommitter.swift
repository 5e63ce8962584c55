import DudaoCore
import DudaoFeeds
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Batches feeds from every connection into one durable transaction (group commit).
///
/// One writer thread takes whatever has queued up while the previous transaction was being
/// fsync'd, commits it as one transaction, and only then completes the waiting promises: every
/// `accepted` ack follows the fsync that made its record durable. Under load batches grow by
/// themselves; when idle a lone feed is committed at once.
final class GroupCommitter: Sendable {
    private struct Pending {
        var request: CommitRequest
        var promise: EventLoopPromise<CommitOutcome>
    }

    private struct State {
        var queue: [Pending] = []
        var running = true
        var writerWaiting = false
    }

    private let store: any IngestStore
    private let state = NIOLockedValueBox(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let registryBox: NIOLockedValueBox<Registry>
    private let maxBatch: Int
    private let logger: Logger
    private let onCommit: @Sendable (Int64) -> Void
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - onCommit: called after each durable batch with the highest sequence number written.
    init(store: any IngestStore, maxBatch: Int, logger: Logger, onCommit: @escaping @Sendable (Int64) -> Void) throws {
        self.store = store
        self.maxBatch = maxBatch
        self.logger = logger
        self.onCommit = onCommit
        self.registryBox = NIOLockedValueBox(try store.loadRegistry())
    }

    /// Starts the writer thread.
    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "dudao-ingest-writer"
        thread.start()
    }

    /// Queues a feed; the promise completes after the batch holding it is durable.
    func submit(_ request: CommitRequest, promise: EventLoopPromise<CommitOutcome>) {
        enum Admission { case queued(wake: Bool), refused }
        let admission = state.withLockedValue { state -> Admission in
            guard state.running else { return .refused }
            state.queue.append(Pending(request: request, promise: promise))
            let wake = state.writerWaiting
            state.writerWaiting = false
            return .queued(wake: wake)
        }
        switch admission {
        case .queued(let wake):
            if wake { wakeup.signal() }
        case .refused:
            promise.succeed(.rejected(WireError(.overloaded, "the service is shutting down; retry later")))
        }
    }

    /// A snapshot of the registry (towns and institutions), for queries.
    var registry: Registry { registryBox.withLockedValue { $0 } }

    /// Finishes what is queued, then stops the thread.
    func stop() {
        state.withLockedValue { $0.running = false }
        wakeup.signal()
        finished.wait()
    }

    private func run() {
        var registry = registryBox.withLockedValue { $0 }
        while true {
            let (batch, running) = state.withLockedValue { state -> ([Pending], Bool) in
                if state.queue.isEmpty {
                    state.writerWaiting = state.running
                    return ([], state.running)
                }
                let take = min(state.queue.count, maxBatch)
                let batch = Array(state.queue.prefix(take))
                state.queue.removeFirst(take)
                return (batch, true)
            }
            if batch.isEmpty {
                if !running { break }
                wakeup.wait()
                continue
            }
            do {
                let outcomes = try store.commit(batch.map(\.request), registry: &registry, now: .now())
                registryBox.withLockedValue { $0 = registry }
                var highest: Int64 = 0
                // One task per event loop completes its connections' promises together, so each
                // connection writes this batch's acks with one flush.
                var byLoop: [ObjectIdentifier: (loop: any EventLoop, done: [(EventLoopPromise<CommitOutcome>, CommitOutcome)])] = [:]
                for (pending, outcome) in zip(batch, outcomes) {
                    if case .accepted(let seq) = outcome { highest = max(highest, seq) }
                    let loop = pending.promise.futureResult.eventLoop
                    byLoop[ObjectIdentifier(loop), default: (loop, [])].done.append((pending.promise, outcome))
                }
                for (loop, done) in byLoop.values {
                    loop.execute { for (promise, outcome) in done { promise.succeed(outcome) } }
                }
                if highest > 0 { onCommit(highest) }
            } catch {
                logger.error("commit failed; the batch is answered internal", metadata: ["error": "\(error)", "size": "\(batch.count)"])
                for pending in batch {
                    pending.promise.succeed(.rejected(WireError(.internal, "storing the feed failed; retry later")))
                }
            }
        }
        // Anything queued after the stop was requested is refused.
        let leftovers = state.withLockedValue { state -> [Pending] in
            defer { state.queue.removeAll() }
            return state.queue
        }
        for pending in leftovers {
            pending.promise.succeed(.rejected(WireError(.overloaded, "the service is shutting down; retry later")))
        }
        finished.signal()
    }
}
