import DudaoCore
import DudaoStorage
import DudaoWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Delivers the outbox to another service over the wire, in order, pipelined, retrying with
/// ``ReconnectBackoff`` while the receiver is down. A frame leaves the outbox only once the
/// receiver answered `ack` (accepted or duplicate); a `nack` is logged and dropped (retrying
/// a refused frame would block everything behind it forever), except `internal` and
/// `overloaded`: the receiver could not take it now (its database restarting), not that it
/// refuses it. Such a frame stays, and goes again after the link's pause.
public final class OutboxSender: Service, Sendable {
    private let database: any SQLDatabase
    private let host: String
    private let port: Int
    private let tls: any ClientTLSSource
    private let serverIdentity: String?
    private let logger: Logger
    private let idlePoll: TimeAmount
    private let doorbell = Doorbell()

    /// Every commit on `database` that queues a frame wakes the sender at once.
    ///
    /// - Parameter idlePoll: how often an empty outbox is looked at again without a wake-up.
    public init(database: any SQLDatabase, host: String, port: Int, tls: any ClientTLSSource, serverIdentity: String?, logger: Logger, idlePoll: TimeAmount = .seconds(1)) {
        self.database = database
        self.host = host
        self.port = port
        self.tls = tls
        self.serverIdentity = serverIdentity
        self.logger = logger
        self.idlePoll = idlePoll
        database.ringAfterOutboxCommits(doorbell)
    }

    /// Delivers until graceful shutdown (or cancellation).
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.deliverWithRetries() }
    }

    private func deliverWithRetries() async {
        let link = ReconnectingLink(
            places: [ReconnectingLink.Place(host: host, port: port)], tls: tls, serverIdentity: serverIdentity, logger: logger,
            failure: "outbox delivery failed; retrying", peerKey: "to")
        await link.run { client, working in
            working()
            try await deliver(over: client)
        }
    }

    private func deliver(over client: WireClient) async throws {
        while !Task.isCancelled {
            let batch = try await database.read { db in try Outbox.pending(db, limit: 256) }
            if batch.isEmpty {
                let doorbell = self.doorbell
                await withTaskCancellationHandler {
                    await doorbell.wait(timeout: idlePoll)
                } onCancel: {
                    doorbell.ring()
                }
                try Task.checkCancellation()
                continue
            }
            for entry in batch { try await client.sendPayload(Array(entry.frame.utf8), flush: false) }
            client.flush()
            var done: [Int64] = []
            var unexpected: JSONValue?
            var notNow: JSONValue?
            for entry in batch {
                guard let reply = try await client.receive() else {
                    unexpected = nil
                    break
                }
                // Only the answer to this very frame settles it: an `error` frame (the receiver
                // closing the connection, e.g. at a timeout) or a reply to another id does not.
                let answer = Answer(reply)
                if case .nack(let id, let error) = answer, id == entry.id, error.code == .internal || error.code == .overloaded {
                    notNow = reply
                    break
                }
                let settles: Bool
                switch answer {
                case .ack(let id, _): settles = id == entry.id
                case .nack(let id, _): settles = id == entry.id
                default: settles = false
                }
                guard settles else {
                    unexpected = reply
                    break
                }
                if case .nack = answer {
                    logger.error(
                        "receiver refused a frame; dropped", metadata: ["id": "\(entry.id)", "reply": "\(JSONWriter.string(reply))"])
                }
                done.append(entry.seq)
            }
            let delivered = done
            if !delivered.isEmpty { try await database.write { db in try Outbox.remove(db, seqs: delivered) } }
            if delivered.count < batch.count {
                // The rest stays in the outbox and goes out again on a new connection.
                if let notNow { throw OutboxSenderError.notNow(JSONWriter.string(notNow)) }
                if let unexpected { throw OutboxSenderError.unexpectedReply(JSONWriter.string(unexpected)) }
                throw WireClientError.closed
            }
        }
    }
}

/// A reply that does not answer the frame it follows.
enum OutboxSenderError: Error, CustomStringConvertible {
    case unexpectedReply(String)
    /// The receiver could not take a frame now (`internal`, `overloaded`): it is sent again.
    case notNow(String)
    var description: String {
        switch self {
        case .unexpectedReply(let reply): "the receiver answered with something other than an ack of the frame sent: \(reply)"
        case .notNow(let reply): "the receiver could not take a frame now; it stays in the outbox and goes again: \(reply)"
        }
    }
}
