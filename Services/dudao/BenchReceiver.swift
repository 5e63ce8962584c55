import DudaoCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The benchmark's webhook: answers 200 at once and notes when each alert (by `alert_key`) arrived.
final class BenchReceiver: Sendable {
    private let arrivals = NIOLockedValueBox<[String: UInt64]>([:])
    private let requestCount = NIOLockedValueBox(0)
    private let channel: any Channel

    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    static func start() async throws -> BenchReceiver {
        let box = NIOLockedValueBox<BenchReceiver?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        BenchReceiverHandler { key in
                            box.withLockedValue { $0 }?.arrived(key)
                        })
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let receiver = BenchReceiver(channel: channel)
        box.withLockedValue { $0 = receiver }
        return receiver
    }

    private func arrived(_ key: String?) {
        let now = DispatchTime.now().uptimeNanoseconds
        requestCount.withLockedValue { $0 += 1 }
        guard let key else { return }
        arrivals.withLockedValue { if $0[key] == nil { $0[key] = now } }
    }

    var received: [String: UInt64] { arrivals.withLockedValue { $0 } }
    var requests: Int { requestCount.withLockedValue { $0 } }

    func stop() async { try? await channel.close() }
}

private final class BenchReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let arrived: @Sendable (String?) -> Void
    private var version = HTTPVersion.http1_1
    private var body: [UInt8] = []

    init(arrived: @escaping @Sendable (String?) -> Void) { self.arrived = arrived }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            version = head.version
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            arrived((try? JSONParser.parse(body))?["alert_key"]?.stringValue)
            var head = HTTPResponseHead(version: version, status: .ok)
            head.headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
