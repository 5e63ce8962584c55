import NIOCore

/// Gathers the buffers written between two flushes into one, just above TLS.
///
/// NIOSSL seals every write into a TLS record of its own (one `SSL_write` each), and the length
/// prepender makes two writes of every frame (its length, then its payload). A group commit
/// answers up to a window of frames per connection at once: here their replies, prefixes and
/// all, become one write, so one TLS record and one system call carry them. Above `limit`
/// bytes the gathered buffer is passed on without waiting for the flush, so a long run of
/// records (a subscription catching up) is not copied into one huge buffer.
final class WriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limit: Int
    private var gathered: ByteBuffer?
    /// The promises of the writes in `gathered`, completed when it is written.
    private var promises: [EventLoopPromise<Void>] = []

    init(limit: Int = 64 * 1024) { self.limit = limit }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        if var gathered = self.gathered.take() {
            gathered.writeBuffer(&buffer)
            self.gathered = gathered
        } else {
            gathered = buffer
        }
        if let promise { promises.append(promise) }
        if let size = gathered?.readableBytes, size >= limit { pass(context: context) }
    }

    func flush(context: ChannelHandlerContext) {
        pass(context: context)
        context.flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
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
