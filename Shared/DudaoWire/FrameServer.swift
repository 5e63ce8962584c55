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

    public init(host: String = "127.0.0.1", port: Int, maxFrameBytes: Int = 1_048_576, maxInFlight: Int = 256) {
        self.host = host
        self.port = port
        self.maxFrameBytes = maxFrameBytes
        self.maxInFlight = maxInFlight
    }
}

/// A listening mutual-TLS port speaking length-prefixed JSON frames.
public final class FrameServer: Sendable {
    private let channel: any Channel

    /// The port actually bound (useful when the configuration asked for port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    /// Binds and starts accepting.
    public static func start(
        configuration: FrameServerConfiguration,
        tls: NIOSSLContext,
        group: any EventLoopGroup,
        factory: any FrameSessionFactory,
        logger: Logger
    ) async throws -> FrameServer {
        let maxFrameBytes = configuration.maxFrameBytes
        let maxInFlight = configuration.maxInFlight
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: tls))
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)))
                    try sync.addHandler(LengthFieldPrepender(lengthFieldBitLength: .fourBytes, lengthFieldEndianness: .big))
                    try sync.addHandler(ConnectionHandler(factory: factory, maxInFlight: maxInFlight, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        return FrameServer(channel: channel)
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
