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

    /// Answers a frame straight from its bytes when the session knows its form (a frequent feed
    /// type read without the generic JSON tree): the frame's id and its reply, encoded (the
    /// compact JSON ``handle(_:)`` would have answered). `nil` (the default): the frame is
    /// parsed, checked and given to ``handle(_:)``. Asked from a connection's second frame on.
    func handle(payload: ByteBuffer) -> (id: String, reply: EventLoopFuture<ByteBuffer?>)?

    /// The connection has closed; release what the session holds.
    func connectionClosed()

    /// Whether a quiet connection must stay open (a log subscription waiting for records);
    /// otherwise the server's idle timeout closes it.
    var keepsConnectionOpen: Bool { get }
}

extension FrameSession {
    public var keepsConnectionOpen: Bool { false }

    public func handle(payload: ByteBuffer) -> (id: String, reply: EventLoopFuture<ByteBuffer?>)? { nil }
}

/// Makes a session per connection. Shared across event loops, so it must be `Sendable`.
public protocol FrameSessionFactory: Sendable {
    /// - Parameters:
    ///   - peer: the identity of the verified client certificate.
    ///   - channel: the connection, for sessions that also write unsolicited frames (subscriptions).
    func makeSession(peer: PeerIdentity, channel: any Channel) -> any FrameSession
}
