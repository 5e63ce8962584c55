import DudaoCore
import NIOCore

/// The per-connection logic of a service.
///
/// A session is made on the connection's event loop when its first frame arrives (after the TLS
/// handshake, so the peer is known), and every call on it happens on that loop.
public protocol FrameSession: AnyObject {
    /// Handles one valid envelope. The future's value is the reply frame (`nil`: no reply, for
    /// service-internal kinds such as flow-control credit). Replies are written in the order the
    /// frames arrived, whatever order the futures complete in.
    func handle(_ envelope: Envelope) -> EventLoopFuture<JSONValue?>

    /// The connection has closed; release what the session holds.
    func connectionClosed()

    /// Whether a quiet connection must stay open (a log subscription waiting for records);
    /// otherwise the server's idle timeout closes it.
    var keepsConnectionOpen: Bool { get }
}

extension FrameSession {
    public var keepsConnectionOpen: Bool { false }
}

/// Makes a session per connection. Shared across event loops, so it must be `Sendable`.
public protocol FrameSessionFactory: Sendable {
    /// - Parameters:
    ///   - peer: the identity of the verified client certificate.
    ///   - channel: the connection, for sessions that also write unsolicited frames (subscriptions).
    func makeSession(peer: PeerIdentity, channel: any Channel) -> any FrameSession
}
