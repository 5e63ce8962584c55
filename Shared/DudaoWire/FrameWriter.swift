import NIOCore

/// Writes frames: each payload written to the channel gets its 4-byte big-endian length, and
/// the frames written between two flushes go out as one buffer, just above TLS.
///
/// NIOSSL seals every write into a TLS record of its own (one `SSL_write` each). A group commit
/// answers up to a window of frames per connection at once: here their replies become one
/// write, so one TLS record and one system call carry them. The length goes into the same
/// buffer as its payload: swift-nio-extras' `LengthFieldPrepender`, which this replaces,
/// allocated a 4-byte buffer and made a second write of every frame, about 3 900 instructions
/// per ack (callgrind). Above `limit` bytes the gathered buffer is passed on without waiting for
/// the flush, so a long run of records (a subscription catching up) is not copied into one huge
/// buffer.
///
/// A log subscription hands its record frames to ``append(_:context:)`` instead of writing
/// each through the pipeline (about 2 300 instructions a frame per consumer, callgrind).
public final class FrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let limit: Int
    private var gathered: ByteBuffer?
    /// The promises of the writes in `gathered`, completed when it is written.
    private var promises: [EventLoopPromise<Void>] = []

    init(limit: Int = 64 * 1024) { self.limit = limit }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let promise { promises.append(promise) }
        append(unwrapOutboundIn(data), context: context)
    }

    /// Writes `payload` as a frame (not flushed), as a write through the pipeline would, from
    /// the channel's event loop; `context` is this handler's.
    public func append(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        var gathered = self.gathered.take() ?? context.channel.allocator.buffer(capacity: max(256, 4 + payload.readableBytes))
        gathered.writeInteger(UInt32(payload.readableBytes), endianness: .big)
        gathered.writeImmutableBuffer(payload)
        self.gathered = gathered
        if gathered.readableBytes >= limit { pass(context: context) }
    }

    public func flush(context: ChannelHandlerContext) {
        pass(context: context)
        context.flush()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        // Never passed on (the channel closed before a flush): their writes failed.
        gathered = nil
        let promises = self.promises
        self.promises = []
        for promise in promises { promise.fail(ChannelError.ioOnClosedChannel) }
    }

    /// Writes what is gathered as one buffer, its promises completed with that write's outcome.
    private func pass(context: ChannelHandlerContext) {
        guard let buffer = gathered.take() else { return }
        var promise: EventLoopPromise<Void>?
        switch promises.count {
        case 0: break
        case 1: promise = promises[0]
        default:
            let all = promises
            let combined = context.eventLoop.makePromise(of: Void.self)
            combined.futureResult.whenComplete { result in
                for each in all { each.completeWith(result) }
            }
            promise = combined
        }
        promises.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
