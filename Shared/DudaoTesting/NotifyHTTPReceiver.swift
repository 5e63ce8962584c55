import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP server on loopback that records every request, for webhook tests. It can be
/// told to fail (HTTP 500) a number of times, always, or for some paths, and to answer slowly.
public final class NotifyHTTPReceiver: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// The status this request was answered with.
        public var status: Int
        public var receivedAt: Date

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Behaviour {
        var failNext = 0
        var failAlways = false
        var failPaths: Set<String> = []
        var failureStatus = 500
        var delayMillis: Int64 = 0
        var responseBody: String?
        var stallAfterHead = false
        /// Past this many requests, answers are held until ``release()``.
        var holdAfter: Int?
        var held: [@Sendable () -> Void] = []
        var requests: [Request] = []
    }

    private let state = NIOLockedValueBox(Behaviour())
    private let channel: any Channel

    public var port: Int { channel.localAddress?.port ?? 0 }
    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }

    private init(channel: any Channel) { self.channel = channel }

    public static func start() async throws -> NotifyHTTPReceiver {
        let box = NIOLockedValueBox<NotifyHTTPReceiver?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        ReceiverHandler { box.withLockedValue { $0 } })
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let receiver = NotifyHTTPReceiver(channel: channel)
        box.withLockedValue { $0 = receiver }
        return receiver
    }

    public func stop() async {
        try? await channel.close()
    }

    /// The next `count` requests are answered with `status` (500 by default).
    public func failNext(_ count: Int, status: Int = 500) {
        state.withLockedValue {
            $0.failNext = count
            $0.failureStatus = status
        }
    }

    /// Every request is answered with `status` while `on` (500 by default).
    public func failAlways(_ on: Bool, status: Int = 500) {
        state.withLockedValue {
            $0.failAlways = on
            $0.failureStatus = status
        }
    }

    /// Requests to these paths fail (500) until cleared.
    public func failPaths(_ paths: Set<String>) { state.withLockedValue { $0.failPaths = paths } }

    /// Answers every request with this body (e.g. the WeCom robot's `{"errcode":0,"errmsg":"ok"}`).
    public func respond(with body: String) { state.withLockedValue { $0.responseBody = body } }

    /// While `on`, answers send their head and one byte of the body, then nothing more.
    public func stallAfterHead(_ on: Bool) { state.withLockedValue { $0.stallAfterHead = on } }

    /// Answers after `millis` (to hold deliveries in flight).
    public func delay(millis: Int64) { state.withLockedValue { $0.delayMillis = millis } }

    /// Records every request but holds the answer of each one past the first `count` until
    /// ``release()``: the sender then has requests in flight, whatever the machine's speed.
    public func hold(after count: Int) { state.withLockedValue { $0.holdAfter = count } }

    /// Answers the held requests (those whose sender still listens) and holds no more.
    public func release() {
        let held = state.withLockedValue { state in
            state.holdAfter = nil
            defer { state.held = [] }
            return state.held
        }
        for answer in held { answer() }
    }

    /// Keeps `answer` for ``release()``; false when holding has ended (answer now).
    fileprivate func park(_ answer: @escaping @Sendable () -> Void) -> Bool {
        state.withLockedValue { state in
            guard state.holdAfter != nil else { return false }
            state.held.append(answer)
            return true
        }
    }

    public var requests: [Request] { state.withLockedValue { $0.requests } }

    /// The requests answered 2xx.
    public var delivered: [Request] { requests.filter { (200..<300).contains($0.status) } }

    /// Waits until `condition` holds for the recorded requests, or `seconds` pass; returns whether it held.
    @discardableResult
    public func wait(seconds: Double = 10, until condition: @Sendable ([Request]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(requests) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(requests)
    }

    /// Decides the status of a request and records it.
    fileprivate func answer(method: String, path: String, headers: [(String, String)], body: [UInt8]) -> (
        status: Int, delay: Int64, body: String?, stall: Bool, hold: Bool
    ) {
        state.withLockedValue { state in
            var status = 200
            if state.failAlways || state.failPaths.contains(path) {
                status = state.failureStatus
            } else if state.failNext > 0 {
                state.failNext -= 1
                status = state.failureStatus
            }
            state.requests.append(
                Request(method: method, path: path, headers: headers, body: body, status: status, receivedAt: Date()))
            let hold = state.holdAfter.map { state.requests.count > $0 } ?? false
            return (status, state.delayMillis, state.responseBody, state.stallAfterHead, hold)
        }
    }
}

private final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let receiver: @Sendable () -> NotifyHTTPReceiver?
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(receiver: @escaping @Sendable () -> NotifyHTTPReceiver?) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head, let receiver = receiver() else { return }
            let headers = head.headers.map { ($0.name, $0.value) }
            let (status, delay, custom, stall, hold) = receiver.answer(method: "\(head.method)", path: head.uri, headers: headers, body: body)
            let reply = custom ?? (status < 300 ? "{\"ok\":true}" : "{\"ok\":false}")
            var responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status))
            responseHead.headers.add(name: "Content-Type", value: "application/json")
            responseHead.headers.add(name: "Content-Length", value: String(reply.utf8.count))
            let finalHead = responseHead
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let respond: @Sendable () -> Void = {
                let (handler, context) = bound.value
                context.write(handler.wrapOutboundOut(.head(finalHead)), promise: nil)
                if stall {
                    context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: String(reply.prefix(1)))))), promise: nil)
                    return
                }
                context.write(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply)))), promise: nil)
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
            }
            let eventLoop = context.eventLoop
            if hold, receiver.park({ eventLoop.execute { respond() } }) {
                // Answered by release().
            } else if delay > 0 {
                context.eventLoop.scheduleTask(in: .milliseconds(delay)) { respond() }
            } else {
                respond()
            }
            self.head = nil
        }
    }
}

extension NotifyHTTPReceiver.Request {
    /// Whether `X-Dudao-Signature` is `sha256=<hex HMAC-SHA256 of the body under secret>`.
    public func hasValidSignature(secret: String) -> Bool {
        guard let header = header("X-Dudao-Signature"), header.hasPrefix("sha256=") else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return header.dropFirst("sha256=".count) == hex
    }
}
