import DudaoCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A client connection to a Dudao port: mutual TLS, length-prefixed JSON frames.
///
/// Frames may be pipelined: `send` many, then `receive` their replies in order. One task owns
/// a client (it is not `Sendable`): receiving from two tasks at once would split the replies.
public final class WireClient {
    public let channel: any Channel
    /// The frames of each socket read, as one element: a consumer that is sent records by the
    /// hundred pays the stream's cost (a lock, and in the Concurrency library's unspecialized
    /// code about ten runtime lookups of generic metadata, 3 200 instructions by callgrind) once
    /// per read instead of once per frame.
    private var iterator: AsyncThrowingStream<[Inbound?], any Error>.AsyncIterator
    /// The frames of the read being taken, and the next to take: each is moved out when taken
    /// (a record's strings and body are not retained by a copy and released with the array).
    private var current: [Inbound?] = []
    private var taken = 0
    /// Frames received in reads not yet taken by `receive`.
    private let buffered: BufferedFrames

    /// A frame as received: parsed into the generic tree, or a record read from its bytes
    /// (``Frame/Record/read(_:)``, when the client was connected with `readsRecords`).
    public enum Inbound: Sendable {
        case frame(JSONValue)
        case record(Frame.Record.Read)
    }

    private init(channel: any Channel, inbound: AsyncThrowingStream<[Inbound?], any Error>, buffered: BufferedFrames) {
        self.channel = channel
        self.iterator = inbound.makeAsyncIterator()
        self.buffered = buffered
    }

    /// Whether a frame has arrived that `receive` would return without waiting.
    public var hasBufferedFrames: Bool { taken < current.count || buffered.count > 0 }

    /// Returns once ``hasBufferedFrames`` is true or `timeout` has passed, whichever comes first
    /// (early too when the connection ends).
    public func waitForFrames(timeout: Duration) async {
        guard !hasBufferedFrames, timeout > .zero else { return }
        await buffered.wait(timeout: TimeAmount(timeout), on: channel.eventLoop)
    }

    /// Connects and completes the TLS handshake.
    ///
    /// The server is verified as `tls` says (a context from ``TLSFiles/makeClientContext()``:
    /// the CA, the serverAuth purpose and `host` in its SAN: a DNS name is checked as the name,
    /// an IP address as the address connected to) and, when `serverIdentity` is given, its
    /// certificate's CN must be that identity: any other CA-signed certificate is refused with
    /// ``WireClientError/wrongServer(expected:presented:address:)``.
    ///
    /// With `readsRecords` (a log consumer), record frames in the ingest's own form are read
    /// straight from their bytes: ``receiveInbound()`` gives them as ``Inbound/record(_:)``.
    public static func connect(
        host: String, port: Int, tls: NIOSSLContext, serverIdentity: String? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, maxFrameBytes: Int = 64 * 1_048_576,
        readsRecords: Bool = false
    ) async throws -> WireClient {
        let (stream, continuation) = AsyncThrowingStream<[Inbound?], any Error>.makeStream()
        let buffered = BufferedFrames()
        let handshake = group.next().makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // SNI and SAN check by name; an IP literal is checked against the connected address.
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: isIPAddress(host) ? nil : host))
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes)))
                    try sync.addHandler(
                        ClientInboundHandler(
                            continuation: continuation, handshake: handshake, buffered: buffered, serverIdentity: serverIdentity,
                            address: "\(host):\(port)", readsRecords: readsRecords))
                }
            }
            .connect(host: host, port: port)
            .get()
        } catch {
            // No channel, so no handler will ever settle the promise: a leaked promise is fatal in debug builds.
            handshake.fail(error)
            throw error
        }
        do {
            try await handshake.futureResult.get()
        } catch let error as WireClientError {
            try? await channel.close()
            throw error
        } catch {
            try? await channel.close()
            // A certificate that fails verification (another CA, no serverAuth, a name not in
            // its SAN): say which identity it presented, so the log names both.
            let presented = await presentedIdentity(host: host, port: port, group: group)
            throw WireClientError.untrustedServer(
                expected: serverIdentity ?? "a Dudao service", presented: presented ?? "unknown", address: "\(host):\(port)",
                reason: "\(error)")
        }
        return WireClient(channel: channel, inbound: stream, buffered: buffered)
    }

    /// Sends one frame (the length prefix is added here).
    public func send(_ frame: JSONValue, flush: Bool = true) async throws {
        try await sendPayload(JSONWriter.bytes(frame), flush: flush)
    }

    /// Sends raw payload bytes as one frame.
    public func sendPayload(_ payload: [UInt8], flush: Bool = true) async throws {
        var buffer = channel.allocator.buffer(capacity: payload.count + 4)
        buffer.writeInteger(UInt32(payload.count), endianness: .big)
        buffer.writeBytes(payload)
        try await sendRaw(buffer, flush: flush)
    }

    /// Sends bytes as they are, without a length prefix (for tests of broken streams).
    public func sendRaw(_ buffer: ByteBuffer, flush: Bool = true) async throws {
        if flush {
            try await channel.writeAndFlush(buffer).get()
        } else {
            channel.write(buffer, promise: nil)
        }
    }

    /// Flushes frames written with `flush: false`.
    public func flush() { channel.flush() }

    /// The next frame from the server, or `nil` once the connection has closed.
    public func receive() async throws -> JSONValue? {
        switch try await receiveInbound() {
        case nil: return nil
        case .frame(let frame): return frame
        case .record(let read): return read.record.frame
        }
    }

    /// The next frame as received (a record read from its bytes when connected with
    /// `readsRecords`), or `nil` once the connection has closed.
    public func receiveInbound() async throws -> Inbound? {
        if taken == current.count {
            guard let read = try await iterator.next() else { return nil }
            buffered.taken(read.count)
            current = read
            taken = 0
        }
        taken += 1
        return current[taken - 1].take()
    }

    /// Sends one frame and waits for the next frame back.
    public func request(_ frame: JSONValue) async throws -> JSONValue {
        try await send(frame)
        guard let reply = try await receive() else { throw WireClientError.closed }
        return reply
    }

    public func close() async {
        try? await channel.close()
    }
}

public enum WireClientError: Error, CustomStringConvertible, Equatable {
    case closed
    /// The server's certificate is valid but names another identity than the one dialled.
    case wrongServer(expected: String, presented: String, address: String)
    /// The server's certificate does not verify (CA, purpose, the name dialled); `presented` is its CN.
    case untrustedServer(expected: String, presented: String, address: String, reason: String)

    public var description: String {
        switch self {
        case .closed: "the server closed the connection"
        case .wrongServer(let expected, let presented, let address):
            "wrong server at \(address): expected identity \(expected), it presented \(presented); refusing it"
        case .untrustedServer(let expected, let presented, let address, let reason):
            "wrong server at \(address): expected identity \(expected), it presented \(presented) with a certificate that does not verify for this address as a server (\(reason)); refusing it"
        }
    }
}

/// The CN of the certificate a server presents, read without trusting it (no client certificate
/// is sent, nothing else is), for error messages; `nil` when it cannot be learnt within 3 s.
func presentedIdentity(host: String, port: Int, group: any EventLoopGroup) async -> String? {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.certificateVerification = .none
    guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
    let found = OneShot(group.next().makePromise(of: String?.self))
    do {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: isIPAddress(host) ? nil : host))
                    try sync.addHandler(PresentedIdentityHandler(found: found))
                }
            }
            .connect(host: host, port: port).get()
        channel.eventLoop.scheduleTask(in: .seconds(3)) { found.settle(nil) }
        let name = try? await found.promise.futureResult.get()
        try? await channel.close()
        return name ?? nil
    } catch {
        found.settle(nil)
        return nil
    }
}

/// A promise completed by the first of several racing events (handshake, error, timeout).
private final class OneShot: Sendable {
    let promise: EventLoopPromise<String?>
    private let done = NIOLockedValueBox(false)
    init(_ promise: EventLoopPromise<String?>) { self.promise = promise }

    func settle(_ value: String?) {
        let first = done.withLockedValue { done in
            defer { done = true }
            return !done
        }
        if first { promise.succeed(value) }
    }
}

/// Completes with the peer certificate's CN at the end of the handshake.
private final class PresentedIdentityHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let found: OneShot
    init(found: OneShot) { self.found = found }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            let name = (try? context.pipeline.syncOperations.nioSSL_peerCertificate()).flatMap { PeerIdentity(certificate: $0) }?.name
            found.settle(name)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        found.settle(nil)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) { found.settle(nil) }
}

/// Whether `host` is an IPv4 or IPv6 literal (then TLS checks the SAN's IP entries, and SNI is not sent).
func isIPAddress(_ host: String) -> Bool {
    (try? SocketAddress(ipAddress: host, port: 0)) != nil
}

/// Forwards decoded frames into an async stream, the frames of one socket read together;
/// reports the end of the TLS handshake.
private final class ClientInboundHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame

    let continuation: AsyncThrowingStream<[WireClient.Inbound?], any Error>.Continuation
    /// Frames decoded since the last read completed.
    private var pending: [WireClient.Inbound?] = []
    /// The stream has ended: frames decoded after it are dropped (a stream ignores them too),
    /// not counted as buffered.
    private var finished = false
    let handshake: EventLoopPromise<Void>
    let buffered: BufferedFrames
    let serverIdentity: String?
    let address: String
    let readsRecords: Bool
    private var handshakeSettled = false

    init(
        continuation: AsyncThrowingStream<[WireClient.Inbound?], any Error>.Continuation, handshake: EventLoopPromise<Void>,
        buffered: BufferedFrames, serverIdentity: String?, address: String, readsRecords: Bool
    ) {
        self.readsRecords = readsRecords
        self.continuation = continuation
        self.handshake = handshake
        self.buffered = buffered
        self.serverIdentity = serverIdentity
        self.address = address
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, !handshakeSettled {
            if let expected = serverIdentity {
                let presented = (try? context.pipeline.syncOperations.nioSSL_peerCertificate())
                    .flatMap { PeerIdentity(certificate: $0) }?.name ?? "no usable certificate"
                guard presented == expected else {
                    let error = WireClientError.wrongServer(expected: expected, presented: presented, address: address)
                    failHandshake(error)
                    continuation.finish(throwing: error)
                    context.close(promise: nil)
                    return
                }
            }
            handshakeSettled = true
            handshake.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .payload(let buffer):
            do {
                let value = try buffer.withUnsafeReadableBytes { raw throws(JSONParseError) -> WireClient.Inbound in
                    let bytes = raw.bindMemory(to: UInt8.self)
                    if readsRecords, let read = Frame.Record.read(bytes) { return .record(read) }
                    return .frame(try JSONParser.parse(bytes))
                }
                pending.append(value)
            } catch {
                finish(throwing: error)
            }
        case .broken(let error):
            finish(throwing: error)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        passPending()
        context.fireChannelReadComplete()
    }

    /// Hands the frames decoded so far to the stream.
    private func passPending() {
        guard !pending.isEmpty, !finished else {
            pending = []
            return
        }
        let frames = pending.count
        continuation.yield(pending)
        pending = []
        buffered.arrived(frames)
    }

    /// Ends the stream after the frames decoded before the end.
    private func finish(throwing error: (any Error)? = nil) {
        passPending()
        finished = true
        continuation.finish(throwing: error)
        buffered.end()
    }

    private func failHandshake(_ error: any Error) {
        guard !handshakeSettled else { return }
        handshakeSettled = true
        handshake.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failHandshake(WireClientError.closed)
        finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failHandshake(error)
        finish(throwing: error)
        context.close(promise: nil)
    }
}
