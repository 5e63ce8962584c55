import DudaoCore
import DudaoStorage
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The one writer of the notify database: batches work from every connection, the timers and
/// the dispatcher into one durable transaction (group commit).
///
/// A writer thread takes whatever queued up while the previous transaction was being fsync'd,
/// runs it as one transaction — flushing any group that became due in the same transaction —
/// and only then completes the waiting callers: an event's `accepted` ack follows the fsync
/// that stored the event, its alert and its queue entries.
final class NotifyWriter: Service, Sendable {
    /// One piece of work inside the batch transaction; returns the reply (or `nil`).
    typealias Body = @Sendable (any SQLConnection, Timestamp, inout AlertEngine.Effects) throws -> JSONValue?
    typealias Completion = @Sendable (Result<JSONValue?, any Error>) -> Void

    private struct Job {
        var body: Body
        var complete: Completion
    }

    private let batching: BatchingThread<Job>

    /// - Parameter onDeliveries: called after a commit that queued deliveries (wakes the dispatcher).
    init(
        database: any SQLDatabase, engine: AlertEngine, clock: any DudaoClock, maxBatch: Int,
        logger: Logger = Logger(label: "dudao-notify"), onDeliveries: @escaping @Sendable () -> Void
    ) {
        batching = BatchingThread<Job>(
            name: "dudao-notify-writer", maxBatch: maxBatch,
            process: { batch, _ in
                Self.commit(batch, database: database, engine: engine, now: clock.now(), logger: logger, onDeliveries: onDeliveries)
            },
            refuse: { job in job.complete(.failure(NotifyWriterError.stopped)) })
    }

    func start() { batching.start() }

    /// Queues `body`; `complete` is called after the transaction holding it has committed (or failed).
    func submit(_ body: @escaping Body, complete: @escaping Completion) {
        batching.submit(Job(body: body, complete: complete))
    }

    /// Runs `body` in the next batch and returns its result once committed.
    func perform(_ body: @escaping Body) async throws -> JSONValue? {
        try await withCheckedThrowingContinuation { continuation in
            submit(body) { continuation.resume(with: $0) }
        }
    }

    /// Finishes what is queued, then stops the thread.
    func stop() { batching.stop() }

    /// Keeps the thread (started by `start()`, before anything can submit) until graceful
    /// shutdown, then stops it: listed first, it stops last, with every write queued committed.
    func run() async throws {
        try? await gracefulShutdown()
        stop()
    }

    private static func commit(
        _ batch: [Job], database: any SQLDatabase, engine: AlertEngine, now: Timestamp, logger: Logger, onDeliveries: @Sendable () -> Void
    ) {
        var results: [JSONValue?] = []
        var effects = AlertEngine.Effects()
        do {
            try database.write { db in
                results = []
                effects = AlertEngine.Effects()
                for job in batch { results.append(try job.body(db, now, &effects)) }
                if effects.touchedGroups { try engine.flushDue(db: db, now: now, effects: &effects) }
            }
        } catch {
            // One bad job must not fail the others: run each alone.
            logger.warning(
                "batch failed; retrying its jobs one by one", metadata: ["error": "\(error)", "size": "\(batch.count)"])
            for job in batch {
                var single = AlertEngine.Effects()
                do {
                    let result = try database.write { db -> JSONValue? in
                        single = AlertEngine.Effects()
                        let result = try job.body(db, now, &single)
                        if single.touchedGroups { try engine.flushDue(db: db, now: now, effects: &single) }
                        return result
                    }
                    job.complete(.success(result))
                    if single.deliveriesCreated > 0 { onDeliveries() }
                } catch {
                    logger.error("write failed", metadata: ["error": "\(error)"])
                    job.complete(.failure(error))
                }
            }
            return
        }
        for (job, result) in zip(batch, results) { job.complete(.success(result)) }
        if effects.deliveriesCreated > 0 { onDeliveries() }
    }
}

enum NotifyWriterError: Error, CustomStringConvertible {
    case stopped
    var description: String { "the service is shutting down" }
}
