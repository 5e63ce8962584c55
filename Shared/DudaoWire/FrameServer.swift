import DudaoCore
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL

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

/// A listening mutual-TLS port speaking length-prefixed JSON frames.
public final class FrameServer: Sendable {
    private let channel: any Channel
    /// The connections open now, by peer (a reload cuts the revoked ones).
    public let connections: OpenConnections

    /// The port actually bound (useful when the configuration asked for port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, connections: OpenConnections) {
        self.channel = channel
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
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let activity = ConnectionActivity(now: .now())
                    try sync.addHandler(NIOSSLServerHandler(context: tls.server))
                    try sync.addHandler(ConnectionGate(revocation: tls.revocation, open: connections, logger: logger))
                    try sync.addHandler(ByteActivityHandler(activity: activity))
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)))
                    try sync.addHandler(LengthFieldPrepender(lengthFieldBitLength: .fourBytes, lengthFieldEndianness: .big))
                    try sync.addHandler(
                        ConnectionHandler(
                            factory: factory, maxInFlight: maxInFlight, timeouts: timeouts, activity: activity, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        return FrameServer(channel: channel, connections: connections)
    }

    /// Stops accepting; open connections are closed with the event loop group.
    public func close() async {
        try? await channel.close()
    }

    /// Completes when the listening socket has closed.
    public func waitUntilClosed() async {
        try? await channel.closeFuture.get()
    }
}
