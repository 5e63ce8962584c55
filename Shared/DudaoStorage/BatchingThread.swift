import Foundation
import NIOConcurrencyHelpers

/// One thread that takes whatever queued up while it was busy and hands it over as one batch:
/// the loop behind every group commit (the ingest's feeds, notify's writes). Under load batches
/// grow by themselves; when idle a lone job is handed over at once.
public final class BatchingThread<Job: Sendable>: Sendable {
    private struct State {
        var queue: [Job] = []
        var running = true
        var waiting = false
    }

    private let name: String
    private let maxBatch: Int
    private let process: @Sendable (_ batch: [Job], _ queued: () -> Bool) -> Void
    private let refuse: @Sendable (Job) -> Void
    private let state = NIOLockedValueBox(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - process: runs a batch (at most `maxBatch` jobs, in submission order) on the thread;
    ///     `queued` tells it whether jobs are waiting for the next batch (asked when it likes).
    ///   - refuse: answers a job submitted after `stop()` (never processed).
    public init(
        name: String, maxBatch: Int, process: @escaping @Sendable (_ batch: [Job], _ queued: () -> Bool) -> Void,
        refuse: @escaping @Sendable (Job) -> Void
    ) {
        self.name = name
        self.maxBatch = maxBatch
        self.process = process
        self.refuse = refuse
    }

    public func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.start()
    }

    /// Queues `job` for the next batch; after `stop()` it is refused instead.
    public func submit(_ job: Job) {
        let admitted = state.withLockedValue { state -> Bool? in
            guard state.running else { return nil }
            state.queue.append(job)
            defer { state.waiting = false }
            return state.waiting
        }
        switch admitted {
        case .none: refuse(job)
        case .some(true): wakeup.signal()
        case .some(false): break
        }
    }

    /// Processes what is queued, then stops the thread; returns once it has stopped.
    public func stop() {
        let wasRunning = state.withLockedValue { state -> Bool in
            defer { state.running = false }
            return state.running
        }
        guard wasRunning else { return }
        wakeup.signal()
        finished.wait()
    }

    private func run() {
        // Two arrays take turns: the queue and the batch being processed. A queue that fits in
        // one batch is swapped out whole, with no copy of its jobs and no allocation.
        var batch: [Job] = []
        while true {
            batch.removeAll(keepingCapacity: true)
            let running = state.withLockedValue { state -> Bool in
                if state.queue.isEmpty {
                    state.waiting = state.running
                    return state.running
                }
                if state.queue.count <= maxBatch {
                    swap(&batch, &state.queue)
                } else {
                    batch.append(contentsOf: state.queue.prefix(maxBatch))
                    state.queue.removeFirst(maxBatch)
                }
                return true
            }
            if batch.isEmpty {
                if !running { break }
                wakeup.wait()
                continue
            }
            process(batch) { [state] in state.withLockedValue { !$0.queue.isEmpty } }
        }
        finished.signal()
    }
}
