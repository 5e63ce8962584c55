import DudaoCore
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Settings of a listening Dudao port.
public struct FrameServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var maxFrameBytes: Int
    /// Frames of one connection awaiting their replies before the server stops reading it.
    public var maxInFlight: Int
    /// A connection with nothing in flight that sends nothing for this long is closed (a log
    /// subscription is exempt: it waits for records). `nil`: never.
    public var idleTimeout: TimeAmount?
    /// A frame must arrive whole within this time of its first byte, and the first frame within
    /// this time of the connection (slow-loris and stalled handshakes are cut).
    public var frameTimeout: TimeAmount

    public init(
        host: String = "127.0.0.1", port: Int, maxFrameBytes: Int = 1_048_576, maxInFlight: Int = 256,
        idleTimeout: TimeAmount? = .seconds(300), frameTimeout: TimeAmount = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.maxFrameBytes = maxFrameBytes
        self.maxInFlight = maxInFlight
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
    }
}

/// A listening mutual-TLS port speaking length-prefixed JSON frames. It is a `Service`: on
/// graceful shutdown it stops accepting and quiesces its connections (each answers the frames
/// it has read, then closes), so a client sees every reply it is owed before the close.
public final class FrameServer: Service, Sendable {
    private let channel: any Channel
    private let quiescing: ServerQuiescingHelper
    /// The connections open now, by peer (a reload cuts the revoked ones).
    public let connections: OpenConnections

    /// The port actually bound (useful when the configuration asked for port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, quiescing: ServerQuiescingHelper, connections: OpenConnections) {
        self.channel = channel
        self.quiescing = quiescing
        self.connections = connections
    }

    /// Binds and starts accepting. Each new connection takes the TLS context and revocation
    /// list that `tls` holds at that moment (a ``TLSMaterial`` reloads them).
    public static func start(
        configuration: FrameServerConfiguration,
        tls: any ServerTLSSource,
        group: any EventLoopGroup,
        factory: any FrameSessionFactory,
        logger: Logger
    ) async throws -> FrameServer {
        let maxFrameBytes = configuration.maxFrameBytes
        let maxInFlight = configuration.maxInFlight
        let timeouts = ConnectionTimeouts(idle: configuration.idleTimeout, frame: configuration.frameTimeout)
        let connections = OpenConnections()
        let quiescing = ServerQuiescingHelper(group: group)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let activity = ConnectionActivity(now: .now())
                    try sync.addHandler(NIOSSLServerHandler(context: tls.server))
                    try sync.addHandler(FrameWriter())
                    try sync.addHandler(ConnectionGate(revocation: tls.revocation, open: connections, logger: logger))
                    try sync.addHandler(ByteActivityHandler(activity: activity))
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)))
                    try sync.addHandler(
                        ConnectionHandler(
                            factory: factory, maxInFlight: maxInFlight, timeouts: timeouts, activity: activity, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        return FrameServer(channel: channel, quiescing: quiescing, connections: connections)
    }

    /// Serves until graceful shutdown, then ``close(grace:)``.
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            // Only starts the quiescing; `run` returns once the listening socket has closed.
            self.quiescing.initiateShutdown(promise: nil)
        }
        await close()
    }

    /// Stops accepting and quiesces every open connection: each answers the frames already
    /// read, then closes (a log subscription closes at once). Returns once all have closed;
    /// connections still open after `grace` (a peer that does not read its replies) are cut.
    public func close(grace: Duration = .seconds(10)) async {
        let closed = channel.eventLoop.makePromise(of: Void.self)
        quiescing.initiateShutdown(promise: closed)
        let connections = self.connections
        let deadline = Task {
            try await Task.sleep(for: grace)
            connections.closeAll()
        }
        try? await closed.futureResult.get()
        deadline.cancel()
    }
}
