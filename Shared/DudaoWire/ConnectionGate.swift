import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS

/// The open connections of one listening port, by peer, so that a reload can cut those whose
/// certificate has since been revoked.
public final class OpenConnections: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: (channel: any Channel, peer: PeerIdentity)]>([:])

    public init() {}

    func add(_ channel: any Channel, peer: PeerIdentity) {
        channels.withLockedValue { $0[ObjectIdentifier(channel)] = (channel, peer) }
    }

    func remove(_ channel: any Channel) {
        _ = channels.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The peers connected now.
    public var peers: [PeerIdentity] { channels.withLockedValue { $0.values.map(\.peer) } }

    /// Closes every open connection at once (the end of a shutdown's grace period).
    func closeAll() {
        for entry in channels.withLockedValue({ Array($0.values) }) { entry.channel.close(promise: nil) }
    }

    /// Closes every connection whose peer `revocation` refuses; returns the peers cut.
    @discardableResult
    public func closeRevoked(_ revocation: RevocationList) -> [PeerIdentity] {
        let cut = channels.withLockedValue { open in
            open.values.filter { revocation.reason(identity: $0.peer.name, serial: $0.peer.serial) != nil }
        }
        for entry in cut { entry.channel.close(promise: nil) }
        return cut.map(\.peer)
    }
}

/// Right after the TLS handshake: refuses a client whose certificate is revoked (closing before
/// any frame is read) and records the others in ``OpenConnections``.
final class ConnectionGate: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let revocation: RevocationList
    private let open: OpenConnections
    private let logger: Logger
    private var refused = false

    init(revocation: RevocationList, open: OpenConnections, logger: Logger) {
        self.revocation = revocation
        self.open = open
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls,
            let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate(),
            let peer = PeerIdentity(certificate: certificate)
        {
            if let reason = revocation.reason(identity: peer.name, serial: peer.serial) {
                refused = true
                logger.warning(
                    "refused a revoked client certificate",
                    metadata: [
                        "identity": "\(peer.name)", "serial": "\(peer.serial)", "reason": "\(reason)",
                        "peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")",
                    ])
                context.close(promise: nil)
                return
            }
            open.add(context.channel, peer: peer)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        open.remove(context.channel)
        context.fireChannelInactive()
    }
}
