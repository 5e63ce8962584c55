import DudaoObservability
import DudaoCore
import DudaoStorage
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// One queued delivery that is due.
struct DueDelivery: Sendable {
    var deliveryID: String
    var notificationID: String
    var department: String
    var channel: Int
    var target: String
    var attempts: Int
    /// The frozen JSON payload of the notification, as stored.
    var payload: String
    /// The receiver may already have it (sent with `X-Dudao-Redelivery: 1`): an earlier attempt
    /// was started by a process that died before recording its outcome, or was sent and never
    /// answered. Once in doubt, always: a 5xx to a later attempt does not take back an earlier one.
    var inDoubt: Bool = false

    static func fetch(_ db: any SQLConnection, now: Timestamp, limit: Int) throws -> [DueDelivery] {
        try db.fetchAll(
            sql: """
                SELECT d.delivery_id, d.notification_id, d.department, d.channel, d.target, d.attempts, n.payload,
                    (d.in_doubt <> 0 OR d.started_attempts > d.attempts)
                FROM deliveries d JOIN notifications n ON n.notification_id = d.notification_id
                WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?
                """,
            arguments: [now.millis, limit]
        ).map { row in
            DueDelivery(
                deliveryID: row[0], notificationID: row[1], department: row[2], channel: row[3], target: row[4], attempts: row[5],
                payload: row[6], inDoubt: row[7])
        }
    }
}

/// What became of one attempt.
extension DeliveryDispatcher {
    /// `dudao_deliveries_total{department, outcome}`: every attempt, by how it ended.
    static let deliveries = CounterFamily("dudao_deliveries_total", dimensions: ["department", "outcome"])
}

extension DeliveryOutcome {
    /// The metric label: delivered, failed, unanswered, permanent.
    var label: String {
        switch self {
        case .delivered: "delivered"
        case .failed: "failed"
        case .unanswered: "unanswered"
        case .permanent: "permanent"
        }
    }
}

enum DeliveryOutcome: Sendable, Equatable {
    /// 2xx (or written): never again.
    case delivered
    /// Try again later: the receiver answered non-2xx, or could not be reached (connection
    /// refused), so it does not have it.
    case failed(String)
    /// Try again later, but the request may have arrived: sent and not answered (timeout,
    /// connection closed). Every later attempt is marked `X-Dudao-Redelivery: 1`.
    case unanswered(String)
    /// Retrying cannot help (e.g. 404, the channel was removed): straight to the dead letters.
    case permanent(String)
}

/// Works the durable delivery queue: takes due deliveries, sends them (bounded concurrency),
/// and records each outcome through the writer. A delivery is taken again only after its
/// outcome has committed, so a receiver that answered 2xx is not sent it twice; after a crash,
/// only deliveries whose outcome had not committed yet are sent again.
final class DeliveryDispatcher: Service, Sendable {
    private let database: any SQLDatabase
    private let writer: NotifyWriter
    private let engine: AlertEngine
    private let channels: ChannelSenders
    private let clock: any DudaoClock
    private let concurrency: Int
    private let logger: Logger
    private let doorbell: Doorbell
    /// What is being sent, and what finished while the queue was being read: a read that began
    /// before an outcome committed may still list that delivery as due.
    private struct Claims {
        var inFlight = Set<String>()
        var reading = false
        var finishedDuringRead = Set<String>()
    }

    private let claims = NIOLockedValueBox(Claims())
    private let stopping = NIOLockedValueBox(false)

    init(
        database: any SQLDatabase, writer: NotifyWriter, engine: AlertEngine, channels: ChannelSenders, clock: any DudaoClock,
        concurrency: Int, doorbell: Doorbell, logger: Logger
    ) {
        self.doorbell = doorbell
        self.database = database
        self.writer = writer
        self.engine = engine
        self.channels = channels
        self.clock = clock
        self.concurrency = concurrency
        self.logger = logger
    }

    /// Dispatches until graceful shutdown; returns once the deliveries in flight have finished.
    func run() async throws {
        await withGracefulShutdownHandler {
            await dispatch()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Runs until `stop()`; returns once the deliveries in flight have finished.
    func dispatch() async {
        await withDiscardingTaskGroup { group in
            while !stopping.withLockedValue({ $0 }) {
                let busy = claims.withLockedValue { claims -> Int in
                    claims.reading = true
                    claims.finishedDuringRead = []
                    return claims.inFlight.count
                }
                let free = concurrency - busy
                var wait: TimeAmount = .seconds(1)
                var due: [DueDelivery] = []
                if free > 0 {
                    do {
                        let now = clock.now()
                        let limit = free + busy
                        let (rows, next) = try await database.read { db in
                            (
                                try DueDelivery.fetch(db, now: now, limit: limit),
                                try db.value(Int64.self, "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'")
                            )
                        }
                        due = rows
                        if let next, next > now.millis {
                            wait = .milliseconds(max(5, min(1000, next - now.millis)))
                        }
                    } catch {
                        logger.error("reading the delivery queue failed", metadata: ["error": "\(error)"])
                    }
                }
                let start = claims.withLockedValue { claims -> [DueDelivery] in
                    claims.reading = false
                    var start: [DueDelivery] = []
                    for delivery in due where start.count < free {
                        let id = delivery.deliveryID
                        guard !claims.inFlight.contains(id), !claims.finishedDuringRead.contains(id) else { continue }
                        claims.inFlight.insert(id)
                        start.append(delivery)
                    }
                    claims.finishedDuringRead = []
                    return start
                }
                if !start.isEmpty {
                    if await markStarted(start) {
                        for delivery in start { group.addTask { await self.attempt(delivery) } }
                    } else {
                        release(start)
                        wait = .seconds(1)
                    }
                }
                await doorbell.wait(timeout: wait)
            }
        }
    }

    func stop() {
        stopping.withLockedValue { $0 = true }
        doorbell.ring()
    }

    /// Records that these attempts are starting, before any request goes out (one group commit
    /// for the round). Returns false if that could not be stored: then nothing is sent.
    private func markStarted(_ deliveries: [DueDelivery]) async -> Bool {
        let ids = deliveries.map(\.deliveryID)
        do {
            _ = try await writer.perform { db, _, _ in
                for id in ids {
                    try db.run("UPDATE deliveries SET started_attempts = attempts + 1 WHERE delivery_id = ? AND status = 'pending'", [id])
                }
                return nil
            }
            return true
        } catch {
            logger.error("recording the start of deliveries failed; not sending them now", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Gives up the claims on these deliveries (sent and recorded, or not sent at all); a read
    /// of the queue under way may still list them as due, so it is told to skip them.
    private func release(_ deliveries: [DueDelivery]) {
        claims.withLockedValue { claims in
            for delivery in deliveries {
                claims.inFlight.remove(delivery.deliveryID)
                if claims.reading { claims.finishedDuringRead.insert(delivery.deliveryID) }
            }
        }
    }

    private func attempt(_ delivery: DueDelivery) async {
        let outcome = await channels.send(delivery)
        let engine = self.engine
        let id = delivery.deliveryID
        Self.deliveries.increment([delivery.department, outcome.label])
        switch outcome {
        case .delivered:
            logger.debug("delivered", metadata: ["delivery": "\(id)", "target": "\(delivery.target)"])
        case .failed(let reason), .unanswered(let reason), .permanent(let reason):
            logger.warning(
                "delivery failed",
                metadata: [
                    "delivery": "\(id)", "target": "\(delivery.target)", "attempt": "\(delivery.attempts + 1)",
                    "error": "\(reason)",
                ])
        }
        do {
            _ = try await writer.perform { db, now, _ in
                switch outcome {
                case .delivered: try engine.deliverySucceeded(id, db: db, now: now)
                case .failed(let reason):
                    try engine.deliveryFailed(id, error: reason, permanent: false, inDoubt: delivery.inDoubt, db: db, now: now)
                case .unanswered(let reason):
                    try engine.deliveryFailed(id, error: reason, permanent: false, inDoubt: true, db: db, now: now)
                case .permanent(let reason):
                    try engine.deliveryFailed(id, error: reason, permanent: true, inDoubt: delivery.inDoubt, db: db, now: now)
                }
                return nil
            }
        } catch {
            logger.error(
                "recording a delivery outcome failed; it will be attempted again",
                metadata: ["delivery": "\(id)", "error": "\(error)"])
        }
        release([delivery])
        doorbell.ring()
    }
}
