import NIOCore

/// When a connection last showed signs of life, shared by the handlers of one pipeline (all on
/// its event loop).
final class ConnectionActivity {
    /// When the last byte arrived (after TLS), or when the connection opened.
    var lastByte: NIODeadline
    /// When the first byte of a frame not yet complete arrived; `nil` between frames.
    var partialSince: NIODeadline?

    /// When the connection opened.
    let opened: NIODeadline

    init(now: NIODeadline) {
        opened = now
        lastByte = now
        partialSince = now  // the first frame is due within the frame timeout of connecting
    }
}

/// Timeouts of `FrameServerConfiguration`, as the connection handler applies them.
struct ConnectionTimeouts: Sendable {
    var idle: TimeAmount?
    var frame: TimeAmount
}

/// Notes the arrival of bytes on their way to the frame decoder.
final class ByteActivityHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let activity: ConnectionActivity

    init(activity: ConnectionActivity) { self.activity = activity }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        activity.lastByte = now
        if activity.partialSince == nil { activity.partialSince = now }
        context.fireChannelRead(data)
    }
}
