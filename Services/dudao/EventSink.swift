import DudaoCore
import DudaoWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A stand-in for `dudao-notify`'s event port: accepts `event` frames over mutual TLS, answers
/// `ack` accepted (or `duplicate` for an id seen before) and remembers what arrived and when.
/// The benchmark measures alarm latency with it; tests use it to see events leave the outbox.
final class EventSink: Sendable {
    struct Received: Sendable {
        var id: String
        var type: String
        var body: JSONObject
        /// `ContinuousClock` instant of arrival.
        var arrived: ContinuousClock.Instant
        var duplicate: Bool
    }

    struct Log: Sendable {
        var received: [Received] = []
        var ids: Set<String> = []
    }

    private let server: FrameServer
    private let log: NIOLockedValueBox<Log>

    var port: Int { server.port }

    private init(server: FrameServer, log: NIOLockedValueBox<Log>) {
        self.server = server
        self.log = log
    }

    /// Listens on `host:port` (0: any free port) with `tls` (a server context, e.g. dudao-notify's).
    static func start(
        tls: NIOSSLContext, host: String = "127.0.0.1", port: Int = 0, logger: Logger = Logger(label: "event-sink")
    ) async throws -> EventSink {
        let log = NIOLockedValueBox(Log())
        let server = try await FrameServer.start(
            configuration: FrameServerConfiguration(host: host, port: port), tls: tls, group: MultiThreadedEventLoopGroup.singleton,
            factory: Factory(log: log), logger: logger)
        return EventSink(server: server, log: log)
    }

    /// Everything received so far, in arrival order (duplicates included, marked).
    var received: [Received] { log.withLockedValue { $0.received } }

    func close() async { await server.close() }

    private struct Factory: FrameSessionFactory {
        let log: NIOLockedValueBox<Log>
        func makeSession(peer: PeerIdentity, channel: any Channel) -> any FrameSession {
            Session(log: log, eventLoop: channel.eventLoop)
        }
    }

    private final class Session: FrameSession {
        let log: NIOLockedValueBox<Log>
        let eventLoop: any EventLoop

        init(log: NIOLockedValueBox<Log>, eventLoop: any EventLoop) {
            self.log = log
            self.eventLoop = eventLoop
        }

        func handle(_ envelope: Envelope) -> EventLoopFuture<JSONValue?> {
            guard case .event(let type?, let body?) = envelope.request else {
                return eventLoop.makeSucceededFuture(
                    Reply.nack(id: envelope.id, error: WireError(.invalidEnvelope, "only events are accepted here", path: "kind")))
            }
            if case .failure(let error) = AlertEvent.parse(id: envelope.id, type: type, body: body) {
                return eventLoop.makeSucceededFuture(Reply.nack(id: envelope.id, error: error))
            }
            let arrived = ContinuousClock.now
            let duplicate = log.withLockedValue { log in
                let seen = !log.ids.insert(envelope.id).inserted
                log.received.append(Received(id: envelope.id, type: type, body: body, arrived: arrived, duplicate: seen))
                return seen
            }
            return eventLoop.makeSucceededFuture(Reply.ack(id: envelope.id, status: duplicate ? .duplicate : .accepted))
        }

        func connectionClosed() {}
    }
}
