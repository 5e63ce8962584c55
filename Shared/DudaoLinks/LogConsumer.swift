import DudaoCore
import DudaoWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Follows the ingest log for a downstream service.
///
/// It subscribes from the service's own committed position + 1, hands records to `apply` in
/// batches, and after each batch tells the ingest what was committed and grants credit for as
/// many more. `apply` must store the batch's effects and the position in one transaction:
/// then a record is applied exactly once, whatever is redelivered after a crash. A lost
/// connection is retried with ``ReconnectBackoff``. It is a `Service`: graceful shutdown stops it.
public final class LogConsumer: Service, Sendable {
    public typealias Apply = @Sendable ([LogRecord]) async throws -> Void

    private let places: [ReconnectingLink.Place]
    private let tls: any ClientTLSSource
    private let serverIdentity: String?
    private let types: [String]
    private let batchSize: Int
    private let logger: Logger
    private let position: @Sendable () async throws -> Int64
    private let apply: Apply
    private let urgent: @Sendable (LogRecord) -> Bool
    private let following = NIOLockedValueBox(false)
    private let linkLost: @Sendable () -> Void

    /// Whether a subscription is open now (the service's `/ready`).
    public var isFollowing: Bool { following.withLockedValue { $0 } }

    /// - Parameters:
    ///   - failover: more ingest instances (`host:port`) on the same PostgreSQL database,
    ///     followed when the one in use fails: every instance serves the same log.
    ///   - types: type patterns to receive (`safety.*`); empty: everything.
    ///   - position: the last applied sequence number, read from the service's store.
    ///   - urgent: records that must not wait for the rest of a batch (a pressed alarm behind
    ///     thousands of heartbeats): the batch is applied right after such a record.
    ///   - apply: applies a batch durably (state and position in one transaction).
    public init(
        host: String, port: Int, failover: [(host: String, port: Int)] = [], tls: any ClientTLSSource, serverIdentity: String?,
        types: [String] = [], batchSize: Int = 512, logger: Logger,
        position: @escaping @Sendable () async throws -> Int64, urgent: @escaping @Sendable (LogRecord) -> Bool = { _ in false },
        linkLost: @escaping @Sendable () -> Void = {}, apply: @escaping Apply
    ) {
        self.linkLost = linkLost
        self.urgent = urgent
        places = [ReconnectingLink.Place(host: host, port: port)] + failover.map { ReconnectingLink.Place(host: $0.host, port: $0.port) }
        self.tls = tls
        self.serverIdentity = serverIdentity
        self.types = types
        self.batchSize = batchSize
        self.logger = logger
        self.position = position
        self.apply = apply
    }

    /// Follows the log until graceful shutdown (or cancellation).
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.followWithRetries() }
    }

    private func followWithRetries() async {
        let link = ReconnectingLink(
            places: places, tls: tls, serverIdentity: serverIdentity, logger: logger,
            failure: "log subscription lost; retrying", peerKey: "ingest", readsRecords: true)
        await link.run(lost: { following.withLockedValue { $0 = false } }) { client, working in
            try await follow(client, from: try await position() + 1) {
                working()
                following.withLockedValue { $0 = true }
            }
        }
    }

    private func follow(_ client: WireClient, from: Int64, connected: () -> Void) async throws {
        try await client.send(
            Frame.subscribe(
                Frame.Subscription(from: from, credit: Int64(batchSize * 2), types: types, keepaliveSeconds: Self.keepaliveSeconds)))
        guard let reply = try await client.receive() else { throw WireClientError.closed }
        guard case .result(_, let accepted) = Answer(reply) else {
            throw ConsumerError(message: "subscription refused: \(JSONWriter.string(reply))")
        }
        connected()
        logger.info("following the ingest log", metadata: ["from": "\(from)", "head": "\(accepted["head"]?.intValue ?? 0)"])
        // A link cut without a FIN or RST (a cable, a firewall) looks like a quiet log: the
        // ingest sends a keepalive every second, so silence means the link is gone. Close and
        // reconnect: while reconnecting, dudao-safety holds back offline declarations.
        let activity = NIOLockedValueBox((last: ContinuousClock.now, busy: false))
        let channel = client.channel
        let logger = self.logger
        let linkLost = self.linkLost
        let following = self.following
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let (last, busy) = activity.withLockedValue { $0 }
                if !busy, ContinuousClock.now - last > Self.silenceTimeout {
                    logger.warning("no frame from the ingest for \(Self.silenceTimeout); the link is taken as lost, reconnecting")
                    // At once: closing a TLS connection over a dead link waits for the peer's close_notify.
                    following.withLockedValue { $0 = false }
                    linkLost()
                    try? await channel.close()
                    return
                }
            }
        }
        defer { watchdog.cancel() }
        var batch: [LogRecord] = []
        /// When the batch's first record came.
        var batchStarted = ContinuousClock.now
        var channelBuffered = 0
        while !Task.isCancelled {
            guard let inbound = try await client.receiveInbound() else { throw WireClientError.closed }
            activity.withLockedValue { $0.last = .now }
            let received: LogRecord?
            /// A record this build does not understand, for the log.
            let skipped: JSONValue?
            switch inbound {
            case .record(let read):
                received = LogRecord(read: read)
                skipped = received == nil ? read.record.frame : nil
            case .frame(let frame):
                let kind = frame["kind"]?.stringValue.flatMap(Frame.Kind.init(rawValue:))
                if kind == .keepalive { continue }  // costs no credit
                received = LogRecord(frame: frame)
                skipped = received == nil && kind == .record ? frame : nil
            }
            var applyNow = false
            if let record = received {
                applyNow = urgent(record)
                if batch.isEmpty { batchStarted = .now }
                batch.append(record)
            } else if let skipped {
                logger.warning("skipping a record this build does not understand", metadata: ["frame": "\(JSONWriter.string(skipped))"])
            }
            channelBuffered += 1
            // Apply when the batch is full, holds an urgent record, or nothing more is waiting.
            var applying = applyNow || batch.count >= batchSize || !client.hasBufferedFrames
            // Records coming one at a time (feeds sent one by one, each acknowledged before the
            // next) would each cost a transaction and an fsync, on the disk the ingest's own
            // fsyncs wait for: a batch waits up to `linger` for more.
            while applying, !applyNow, !batch.isEmpty, batch.count < batchSize, ContinuousClock.now - batchStarted < Self.linger {
                await client.waitForFrames(timeout: Self.linger - (ContinuousClock.now - batchStarted))
                if client.hasBufferedFrames { applying = false }
                try Task.checkCancellation()
            }
            if applying {
                if !batch.isEmpty {
                    activity.withLockedValue { $0.busy = true }
                    defer { activity.withLockedValue { $0 = (.now, false) } }
                    try await apply(batch)
                    let committed = batch.last!.seq
                    batch.removeAll(keepingCapacity: true)
                    try await client.send(Frame.credit(channelBuffered, committed: committed))
                    channelBuffered = 0
                } else if channelBuffered > 0 {
                    try await client.send(Frame.credit(channelBuffered))
                    channelBuffered = 0
                }
            }
        }
    }
}

extension LogConsumer {
    /// How often the ingest is asked to show the link is alive.
    static let keepaliveSeconds = 1.0
    /// Silence (no record, no keepalive) after which the link is taken as lost.
    static let silenceTimeout = Duration.seconds(5)
    /// How long a batch that is not full waits for more records before it is applied (an urgent
    /// record never waits).
    static let linger = Duration.milliseconds(2)
}

public struct ConsumerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
