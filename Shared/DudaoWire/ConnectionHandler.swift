import DudaoCore
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Turns decoded frames into session calls and writes exactly one reply per frame, in arrival
/// order, with a bounded number of frames in flight.
///
/// Backpressure: while `maxInFlight` frames await their replies, or while the peer does not
/// read what was written (the channel is not writable), this handler holds back `read()`: the
/// kernel's receive buffer fills and TCP flow control slows the sender. Memory per connection
/// stays bounded by `maxInFlight` plus one read's worth of frames.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Slot {
        case pending
        case ready(ByteBuffer?, closeAfter: Bool)
    }

    private let factory: any FrameSessionFactory
    private let maxInFlight: Int
    private let timeouts: ConnectionTimeouts
    private let activity: ConnectionActivity
    private var watchdog: RepeatedTask?
    private var handshakeDone = false
    private let logger: Logger
    private var session: (any FrameSession)?
    private var context: ChannelHandlerContext?
    private var slots = CircularBuffer<Slot>(initialCapacity: 16)
    /// Sequence number of `slots.first`.
    private var headSequence = 0
    private var readHeldBack = false
    private var closing = false
    /// The server is shutting down: no more reads; close once every frame read is answered.
    private var quiescing = false
    /// A flush is queued on the event loop: replies completed by one group commit (which
    /// arrive as consecutive tasks) go out in one TLS write instead of one each.
    private var flushQueued = false

    init(factory: any FrameSessionFactory, maxInFlight: Int, timeouts: ConnectionTimeouts, activity: ConnectionActivity, logger: Logger) {
        self.factory = factory
        self.maxInFlight = maxInFlight
        self.timeouts = timeouts
        self.activity = activity
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let shortest = min(timeouts.frame, timeouts.idle ?? timeouts.frame)
        let period = max(TimeAmount.milliseconds(100), TimeAmount.nanoseconds(shortest.nanoseconds / 4))
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            bound.value.checkTimeouts()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watchdog?.cancel()
        watchdog = nil
        self.context = nil
    }

    /// Cuts slow and idle peers: a frame (or the first frame) not complete within the frame
    /// timeout is answered with an `error` frame and the connection closed; a connection with
    /// nothing in flight and nothing received for the idle timeout is closed, unless its
    /// session keeps it open (a log subscription).
    private func checkTimeouts() {
        guard let context, !closing else { return }
        let now = NIODeadline.now()
        if let since = activity.partialSince, now - since > timeouts.frame {
            logger.info("cutting a slow peer", metadata: ["peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
            closing = true
            guard handshakeDone else {
                // Not one frame yet (perhaps not even a finished TLS handshake, which would hold
                // back an error frame forever): just close.
                context.close(promise: nil)
                return
            }
            let seconds = timeouts.frame.nanoseconds / 1_000_000_000
            let error = WireError(.invalidFrame, "no complete frame within \(seconds) s (frame_timeout); closing", zh: "\(seconds) 秒内未收到完整的帧（frame_timeout），连接将关闭")
            slots.append(.ready(ByteBuffer(json: Reply.error(error)), closeAfter: true))
            flushReady()
            return
        }
        if let idle = timeouts.idle, slots.isEmpty, session?.keepsConnectionOpen != true, now - activity.lastByte > idle {
            logger.debug("closing an idle connection")
            closing = true
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if handshakeDone {
                closeIfDrained(context: context)
            } else if !closing {
                closing = true
                context.close(promise: nil)
            }
            return
        }
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            handshakeDone = true
            // The first-frame deadline guards the handshake; an authenticated peer that waits
            // before its first frame (an outbox with nothing to send) is merely idle.
            if activity.partialSince != nil && activity.lastByte == activity.opened {
                activity.partialSince = nil
                activity.lastByte = .now()
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.connectionClosed()
        session = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .broken(let error):
            closing = true
            slots.append(.ready(ByteBuffer(json: Reply.error(error)), closeAfter: true))
            flushReady()
        case .payload(let payload):
            activity.partialSince = nil
            if let session, let answered = session.handle(payload: payload) {
                awaitReply(answered.reply, id: answered.id, context: context) { $0 }
                return
            }
            switch Envelope.parse(payload) {
            case .failure(let rejection):
                slots.append(.ready(ByteBuffer(json: Reply.nack(id: rejection.id, error: rejection.error)), closeAfter: false))
                flushReady()
            case .success(let envelope):
                guard let session = sessionFor(context: context) else { return }
                awaitReply(session.handle(envelope), id: envelope.id, context: context) { ByteBuffer(json: $0) }
            }
        }
    }

    /// Holds the next reply slot for frame `id` until `reply` completes, then writes it
    /// `encode`d (a JSON value, or a payload already encoded).
    private func awaitReply<Value: Sendable>(
        _ reply: EventLoopFuture<Value?>, id: String, context: ChannelHandlerContext, encode: @escaping @Sendable (Value) -> ByteBuffer
    ) {
        let sequence = headSequence + slots.count
        slots.append(.pending)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        reply.hop(to: context.eventLoop).whenComplete { result in
            let handler = bound.value
            switch result {
            case .success(let reply):
                handler.complete(sequence: sequence, reply: reply.map(encode))
            case .failure(let error):
                handler.logger.error("session failed", metadata: ["id": "\(id)", "error": "\(error)"])
                let reply = Reply.nack(id: id, error: WireError(.internal, "the service failed to handle this frame; retry later", zh: "服务处理此帧失败，请稍后重试"))
                handler.complete(sequence: sequence, reply: ByteBuffer(json: reply))
            }
        }
    }

    private func sessionFor(context: ChannelHandlerContext) -> (any FrameSession)? {
        if let session { return session }
        guard let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate(),
            let peer = PeerIdentity(certificate: certificate)
        else {
            logger.warning("connection without a usable client certificate name; closing")
            closing = true
            context.close(promise: nil)
            return nil
        }
        let made = factory.makeSession(peer: peer, channel: context.channel)
        session = made
        return made
    }

    private func complete(sequence: Int, reply: ByteBuffer?) {
        let offset = sequence - headSequence
        guard offset >= 0, offset < slots.count else { return }
        slots[slots.index(slots.startIndex, offsetBy: offset)] = .ready(reply, closeAfter: false)
        flushReady()
    }

    private func flushReady() {
        guard let context else { return }
        var wrote = false
        while let first = slots.first, case .ready(let reply, let closeAfter) = first {
            slots.removeFirst()
            headSequence += 1
            if closeAfter {
                // The last frame of a broken stream: close once it has gone out.
                let promise = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(wrapOutboundOut(reply ?? ByteBuffer()), promise: promise)
                let channel = context.channel
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                return
            }
            if let reply {
                context.write(wrapOutboundOut(reply), promise: nil)
                wrote = true
            }
        }
        if wrote { queueFlush(context: context) }
        resumeReadingIfPossible(context: context)
        closeIfDrained(context: context)
    }

    /// While quiescing: once no frame awaits its reply, flush and close (TLS sends close_notify).
    private func closeIfDrained(context: ChannelHandlerContext) {
        guard quiescing, slots.isEmpty, !closing else { return }
        closing = true
        context.flush()
        context.close(promise: nil)
        // Read again so that the peer's TLS close_notify is seen (frames are dropped now).
        if readHeldBack {
            readHeldBack = false
            context.read()
        }
    }

    private func queueFlush(context: ChannelHandlerContext) {
        guard !flushQueued else { return }
        flushQueued = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = bound.value
            handler.flushQueued = false
            handler.context?.flush()
        }
    }

    private func resumeReadingIfPossible(context: ChannelHandlerContext) {
        if readHeldBack, slots.count < maxInFlight, context.channel.isWritable, !closing, !quiescing {
            readHeldBack = false
            context.read()
        }
    }

    // MARK: outbound

    func read(context: ChannelHandlerContext) {
        if closing && quiescing {
            context.read()  // only the peer's close_notify matters now
            return
        }
        if slots.count >= maxInFlight || !context.channel.isWritable || closing || quiescing {
            readHeldBack = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfPossible(context: context)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
