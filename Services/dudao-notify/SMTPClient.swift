import DudaoCore
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A reply of an SMTP server: the code and its text lines (a multi-line reply joined).
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
}

/// Why an e-mail was not sent. `permanent` when the server said 5xx: retrying will not help;
/// `unanswered` when the whole message was sent and no reply came: the server may have it.
struct SMTPError: Error, CustomStringConvertible {
    var description: String
    var permanent = false
    var unanswered = false
    /// The server's reply code, when it answered with one it should not have.
    var code: Int? = nil
}

/// A small SMTP client (RFC 5321) over SwiftNIO: EHLO, STARTTLS when the server offers it
/// (or always/never, as configured), AUTH PLAIN when a username is set, MAIL/RCPT/DATA with
/// dot-stuffing, QUIT. One connection per message; the whole exchange has one deadline.
final class SMTPClient: Sendable {
    let settings: SMTPSettings
    let time: LocalTime
    private let tls: NIOSSLContext?

    init(settings: SMTPSettings, time: LocalTime) throws {
        self.settings = settings
        self.time = time
        if settings.startTLS == .never {
            tls = nil
        } else {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let ca = settings.tlsCA {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            }
            tls = try NIOSSLContext(configuration: configuration)
        }
    }

    /// Sends a notification's payload as an e-mail to `to`; `inDoubt`: the server may already
    /// have it (`X-Dudao-Redelivery: 1`, as on webhooks; the Message-ID is the same as before).
    func send(to: [String], payload: JSONObject, deliveryID: String, inDoubt: Bool) async -> DeliveryOutcome {
        let subject =
            (payload["message"]?.stringValue ?? "").split(separator: "\n").first.map(String.init)
            ?? payload["summary"]?.stringValue ?? "督导告警"
        var body = payload["message"]?.stringValue ?? payload["summary"]?.stringValue ?? ""
        body += "\n\n—— 督导 Dudao（dudao-notify）自动发送，请勿直接回复。\n"
        let message = MailMessage.build(
            from: settings.from, fromName: settings.fromName, to: to, subject: subject, body: body,
            messageID: "\(deliveryID).\(payload["notification_id"]?.stringValue ?? "n")@dudao-notify",
            date: time.rfc5322(Timestamp.now().millis),
            extraHeaders: [
                ("X-Dudao-Alert-Id", payload["alert_id"]?.stringValue ?? ""), ("X-Dudao-Delivery", deliveryID),
                ("X-Dudao-Severity", payload["severity"]?.stringValue ?? ""),
            ] + (inDoubt ? [("X-Dudao-Redelivery", "1")] : []))
        do {
            try await send(from: settings.from, to: to, data: message)
            return .delivered
        } catch let error as SMTPError {
            if error.permanent { return .permanent(error.description) }
            return error.unanswered ? .unanswered(error.description) : .failed(error.description)
        } catch {
            return .failed("smtp \(settings.host):\(settings.port): \(error)")
        }
    }

    /// One SMTP transaction: `data` is the message (headers and body); dot-stuffing is done here.
    func send(from: String, to: [String], data: [UInt8]) async throws {
        let (stream, continuation) = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(settings.timeout * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(continuation: continuation))
                }
            }
            .connect(host: settings.host, port: settings.port)
            .get()
        let deadline = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(settings.timeout * 1000))) {
            channel.close(promise: nil)
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        let conversation = SMTPConversation(channel: channel, replies: stream)
        try await conversation.expect(220, after: "connect")
        var capabilities = try await conversation.command("EHLO \(settings.helo)", expect: 250).lines.map { $0.uppercased() }
        let offersTLS = capabilities.contains { $0.hasPrefix("STARTTLS") }
        if let tls, offersTLS || settings.startTLS == .always {
            guard offersTLS else {
                throw SMTPError(
                    description: "\(settings.host) does not offer STARTTLS and smtp.starttls is always", permanent: false)
            }
            try await conversation.command("STARTTLS", expect: 220)
            let host = settings.host
            let serverName = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(
                    try NIOSSLClientHandler(context: tls, serverHostname: serverName), position: .first)
            }.get()
            capabilities = try await conversation.command("EHLO \(settings.helo)", expect: 250).lines.map { $0.uppercased() }
        }
        if let username = settings.username, let password = settings.password {
            let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            try await conversation.command("AUTH PLAIN \(token)", expect: 235, shown: "AUTH PLAIN ***")
        }
        try await conversation.command("MAIL FROM:<\(from)>", expect: 250)
        for recipient in to {
            try await conversation.command("RCPT TO:<\(recipient)>", expect: 250...251)
        }
        try await conversation.command("DATA", expect: 354)
        try await conversation.write(MailMessage.dotStuffed(data))
        do {
            try await conversation.expect(250, after: "end of DATA")
        } catch let error as SMTPError where error.code != nil {
            throw error
        } catch {
            throw SMTPError(description: "no reply to the end of DATA, the message may have arrived: \(error)", unanswered: true)
        }
        _ = try? await conversation.command("QUIT", expect: 221)
    }
}

/// The client side of one SMTP connection: write a command, read its reply. One task owns it.
private final class SMTPConversation {
    let channel: any Channel
    var replies: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator

    init(channel: any Channel, replies: AsyncThrowingStream<SMTPReply, any Error>) {
        self.channel = channel
        self.replies = replies.makeAsyncIterator()
    }

    func write(_ bytes: [UInt8]) async throws {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        } catch {
            // The connection died (a failed TLS handshake, say): report why, not "I/O on closed channel".
            _ = try await replies.next()
            throw error
        }
    }

    @discardableResult
    func command(_ line: String, expect codes: ClosedRange<Int>, shown: String? = nil) async throws -> SMTPReply {
        try await write(Array((line + "\r\n").utf8))
        return try await expect(codes, after: shown ?? line)
    }

    @discardableResult
    func command(_ line: String, expect code: Int, shown: String? = nil) async throws -> SMTPReply {
        try await command(line, expect: code...code, shown: shown)
    }

    @discardableResult
    func expect(_ code: Int, after what: String) async throws -> SMTPReply {
        try await expect(code...code, after: what)
    }

    @discardableResult
    func expect(_ codes: ClosedRange<Int>, after what: String) async throws -> SMTPReply {
        guard let reply = try await replies.next() else {
            throw SMTPError(description: "the SMTP server closed the connection after \(what)")
        }
        guard codes.contains(reply.code) else {
            throw SMTPError(
                description: "the SMTP server answered \(reply.code) \(reply.lines.joined(separator: " / ")) to \(what)",
                permanent: reply.code >= 500, code: reply.code)
        }
        return reply
    }
}

/// Splits the server's bytes into replies: `250-first`, `250-more`, `250 last`.
private final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation
    private var pending: [UInt8] = []
    private var lines: [String] = []

    init(continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        pending += buffer.readableBytesView
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            guard line.count >= 3, let code = Int(String(decoding: line.prefix(3), as: UTF8.self)) else {
                continuation.finish(
                    throwing: SMTPError(description: "not an SMTP reply: \(String(decoding: line, as: UTF8.self))"))
                context.close(promise: nil)
                return
            }
            let more = line.count > 3 && line[3] == UInt8(ascii: "-")
            lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
            if !more {
                continuation.yield(SMTPReply(code: code, lines: lines))
                lines = []
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
