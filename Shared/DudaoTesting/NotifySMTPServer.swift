import DudaoWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A small but real SMTP server on loopback (RFC 5321: EHLO/HELO, STARTTLS, AUTH PLAIN, MAIL,
/// RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) that keeps every message it accepts.
public final class NotifySMTPServer: Sendable {
    public struct Mail: Sendable {
        public var from: String
        public var recipients: [String]
        /// The message as received, dot-unstuffed, lines joined with CRLF.
        public var data: String
        /// Whether STARTTLS was in force when the message was sent.
        public var usedTLS: Bool
        public var authenticatedAs: String?

        /// Header lines, unfolded, as (name, value).
        public var headers: [(String, String)] {
            let head = data.components(separatedBy: "\r\n\r\n").first ?? ""
            var result: [(String, String)] = []
            for line in head.components(separatedBy: "\r\n") {
                if line.hasPrefix(" ") || line.hasPrefix("\t"), !result.isEmpty {
                    result[result.count - 1].1 += line
                } else if let colon = line.firstIndex(of: ":") {
                    result.append(
                        (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
                }
            }
            return result
        }

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        /// A header with RFC 2047 `=?UTF-8?B?...?=` words decoded.
        public func decodedHeader(_ name: String) -> String? {
            guard let raw = header(name) else { return nil }
            var out = ""
            var rest = Substring(raw)
            while let start = rest.range(of: "=?UTF-8?B?", options: .caseInsensitive) {
                out += rest[..<start.lowerBound].trimmingCharacters(in: .whitespaces)
                rest = rest[start.upperBound...]
                guard let end = rest.range(of: "?=") else { break }
                if let bytes = Data(base64Encoded: String(rest[..<end.lowerBound])) {
                    out += String(decoding: bytes, as: UTF8.self)
                }
                rest = rest[end.upperBound...]
            }
            return out + rest
        }

        /// The body, base64-decoded when the message says so.
        public var decodedBody: String {
            let parts = data.components(separatedBy: "\r\n\r\n")
            let body = parts.dropFirst().joined(separator: "\r\n\r\n")
            if header("Content-Transfer-Encoding")?.lowercased() == "base64" {
                let compact = body.replacingOccurrences(of: "\r\n", with: "")
                return String(decoding: Data(base64Encoded: compact) ?? Data(), as: UTF8.self)
            }
            return body
        }
    }

    private let box: NIOLockedValueBox<[Mail]>
    private let channel: any Channel

    public var port: Int { channel.localAddress?.port ?? 0 }

    /// The mails received.
    public var mails: [Mail] { box.withLockedValue { $0 } }

    private init(channel: any Channel, box: NIOLockedValueBox<[Mail]>) {
        self.channel = channel
        self.box = box
    }

    /// - Parameter tls: when given, STARTTLS is offered with this server context.
    public static func start(tls: NIOSSLContext?) async throws -> NotifySMTPServer {
        let box = NIOLockedValueBox<[Mail]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        SMTPServerHandler(tls: tls) { mail in
                            box.withLockedValue { $0.append(mail) }
                        })
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return NotifySMTPServer(channel: channel, box: box)
    }

    public func stop() async { try? await channel.close() }

    /// A server context for STARTTLS from a test PKI identity (its certificate names localhost and 127.0.0.1).
    public static func tlsContext(pki: TestPKI, name: String = "dudao-ingest") throws -> NIOSSLContext {
        let files = pki.files(name)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: files.keyPath, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }

    /// Waits until `count` mails have arrived or `seconds` pass.
    public func wait(for count: Int, seconds: Double = 10) async -> [Mail] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, mails.count < count { try? await Task.sleep(for: .milliseconds(20)) }
        return mails
    }
}

private final class SMTPServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let tls: NIOSSLContext?
    private let deliver: @Sendable (NotifySMTPServer.Mail) -> Void
    private var pending: [UInt8] = []
    private var inData = false
    private var dataLines: [String] = []
    private var from: String?
    private var recipients: [String] = []
    private var tlsActive = false
    private var user: String?

    init(tls: NIOSSLContext?, deliver: @escaping @Sendable (NotifySMTPServer.Mail) -> Void) {
        self.tls = tls
        self.deliver = deliver
    }

    func channelActive(context: ChannelHandlerContext) {
        reply(context, "220 localhost ESMTP dudao-test-smtp")
        context.fireChannelActive()
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += unwrapInboundIn(data).readableBytesView
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var bytes = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            line(context, String(decoding: bytes, as: UTF8.self))
        }
    }

    private func line(_ context: ChannelHandlerContext, _ line: String) {
        if inData {
            if line == "." {
                inData = false
                deliver(
                    NotifySMTPServer.Mail(
                        from: from ?? "", recipients: recipients, data: dataLines.joined(separator: "\r\n"), usedTLS: tlsActive,
                        authenticatedAs: user))
                dataLines = []
                from = nil
                recipients = []
                reply(context, "250 2.0.0 queued")
            } else {
                dataLines.append(line.hasPrefix("..") ? String(line.dropFirst()) : line)
            }
            return
        }
        let upper = line.uppercased()
        if upper.hasPrefix("EHLO") {
            var lines = ["250-localhost greets you", "250-8BITMIME"]
            if tls != nil, !tlsActive { lines.append("250-STARTTLS") }
            lines.append("250-AUTH PLAIN")
            lines.append("250 SIZE 10485760")
            reply(context, lines.joined(separator: "\r\n"))
        } else if upper.hasPrefix("HELO") {
            reply(context, "250 localhost")
        } else if upper == "STARTTLS", let tls, !tlsActive {
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "220 2.0.0 ready to start TLS\r\n")), promise: promise)
            let channel = context.channel
            promise.futureResult.whenSuccess {
                _ = try? channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
            }
            tlsActive = true
            from = nil
            recipients = []
        } else if upper.hasPrefix("AUTH PLAIN ") {
            let token = String(line.dropFirst("AUTH PLAIN ".count))
            let parts = (Data(base64Encoded: token) ?? Data()).split(separator: 0, omittingEmptySubsequences: false)
            user = parts.count >= 2 ? String(decoding: parts[1], as: UTF8.self) : nil
            reply(context, user == nil ? "535 5.7.8 bad credentials" : "235 2.7.0 authenticated")
        } else if upper.hasPrefix("MAIL FROM:") {
            from = Self.address(line)
            recipients = []
            reply(context, "250 2.1.0 ok")
        } else if upper.hasPrefix("RCPT TO:") {
            guard from != nil else { return reply(context, "503 5.5.1 need MAIL first") }
            recipients.append(Self.address(line))
            reply(context, "250 2.1.5 ok")
        } else if upper == "DATA" {
            guard from != nil, !recipients.isEmpty else { return reply(context, "503 5.5.1 need RCPT first") }
            inData = true
            reply(context, "354 end data with <CR><LF>.<CR><LF>")
        } else if upper == "RSET" {
            from = nil
            recipients = []
            reply(context, "250 ok")
        } else if upper == "NOOP" {
            reply(context, "250 ok")
        } else if upper == "QUIT" {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "221 2.0.0 bye\r\n"))).whenComplete {
                [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        } else {
            reply(context, "502 5.5.2 command not recognized")
        }
    }

    private static func address(_ line: String) -> String {
        guard let open = line.firstIndex(of: "<"), let close = line.lastIndex(of: ">"), open < close else { return "" }
        return String(line[line.index(after: open)..<close])
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
