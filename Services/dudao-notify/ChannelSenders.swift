import AsyncHTTPClient
import DudaoCore
import DudaoService
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Sends one delivery over the channel it was queued for.
final class ChannelSenders: Service, Sendable {
    /// The routes file's departments and channels as configured now (a reload replaces them;
    /// the `smtp` section and the HTTP timeouts are read once, at start).
    let live: Reloadable<Routes>
    var routes: Routes { live.current }
    let http: HTTPClient
    let smtp: SMTPClient?
    let time: LocalTime
    let threadPool: NIOThreadPool

    init(routes: Routes, concurrency: Int, time: LocalTime, threadPool: NIOThreadPool = .singleton) throws {
        self.live = Reloadable(routes)
        // `execute`'s deadline ends when the answer's head arrives; a receiver that then stalls
        // in the middle of its body is cut by the read timeout (the longest channel timeout).
        let longest = routes.departments.values.flatMap(\.channels).map { channel -> Double in
            switch channel {
            case .webhook(_, _, let timeout), .wecom(_, let timeout): timeout
            default: 0
            }
        }.max() ?? 0
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .milliseconds(Int64(max(longest, 5) * 1000))),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, concurrency)))
        configuration.httpVersion = .http1Only
        self.http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        self.smtp = try routes.smtp.map { try SMTPClient(settings: $0, time: time) }
        self.time = time
        self.threadPool = threadPool
    }

    func shutdown() async {
        try? await http.shutdown().get()
    }

    /// Keeps the HTTP client until graceful shutdown, then shuts it down: listed before the
    /// dispatcher, it stops after the last delivery has finished.
    func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// The channel a delivery was queued for, as configured now.
    func channel(for delivery: DueDelivery) -> ChannelConfig? {
        guard let channels = routes.department(delivery.department)?.channels else { return nil }
        if channels.indices.contains(delivery.channel), channels[delivery.channel].target == delivery.target {
            return channels[delivery.channel]
        }
        return channels.first { $0.target == delivery.target }
    }

    func send(_ delivery: DueDelivery) async -> DeliveryOutcome {
        guard let channel = channel(for: delivery) else {
            return .permanent("the channel \(delivery.target) of \(delivery.department) is no longer in the routes file")
        }
        let payload = (try? JSONParser.parse(delivery.payload))?.objectValue ?? [:]
        switch channel {
        case .webhook(let url, let secret, let timeout):
            return await webhook(url: url, secret: secret, timeout: timeout, delivery: delivery, payload: payload)
        case .wecom(let url, let timeout):
            return await wecom(url: url, timeout: timeout, payload: payload)
        case .email(let to):
            guard let smtp else { return .permanent("no smtp section in the routes file") }
            return await smtp.send(to: to, payload: payload, deliveryID: delivery.deliveryID, inDoubt: delivery.inDoubt)
        case .file(let path):
            let line = Array((delivery.payload + "\n").utf8)
            do {
                try await threadPool.runIfActive { try AppendFile.append(line, to: path) }
                return .delivered
            } catch {
                return .failed("\(path): \(error)")
            }
        }
    }

    /// SPEC section 5: POST the payload, signed with `X-Dudao-Signature: sha256=<hex HMAC-SHA256>`.
    private func webhook(url: String, secret: String?, timeout: Double, delivery: DueDelivery, payload: JSONObject) async
        -> DeliveryOutcome
    {
        let body = Array(delivery.payload.utf8)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "dudao-notify/1")
        request.headers.add(name: "X-Dudao-Delivery", value: delivery.deliveryID)
        request.headers.add(name: "X-Dudao-Event", value: payload["event"]?.stringValue ?? "")
        request.headers.add(name: "X-Dudao-Attempt", value: String(delivery.attempts + 1))
        if delivery.inDoubt { request.headers.add(name: "X-Dudao-Redelivery", value: "1") }
        if let secret { request.headers.add(name: "X-Dudao-Signature", value: Hex.signature(body: body, secret: secret)) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return await post(request, timeout: timeout, judgeByStatus: true) { status, _ in Self.classify(status) }
    }

    /// The WeCom group robot: `{"msgtype":"markdown","markdown":{"content":...}}`; success is `errcode` 0.
    private func wecom(url: String, timeout: Double, payload: JSONObject) async -> DeliveryOutcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(WeComMessage.body(payload))))
        return await post(request, timeout: timeout) { status, body in
            let outcome = Self.classify(status)
            guard outcome == .delivered else { return outcome }
            guard let reply = try? JSONParser.parse(body), let code = reply["errcode"]?.intValue else {
                return .failed("the robot's answer is not its JSON ({\"errcode\":0,...})")
            }
            return code == 0 ? .delivered : .failed("errcode \(code): \(reply["errmsg"]?.stringValue ?? "")")
        }
    }

    /// - Parameter judgeByStatus: a 2xx status alone means delivered (the answer's body is not
    ///   read: a receiver that stalls after its 2xx head has the alert).
    private func post(
        _ request: HTTPClientRequest, timeout: Double, judgeByStatus: Bool = false, judge: (HTTPResponseStatus, [UInt8]) -> DeliveryOutcome
    ) async -> DeliveryOutcome {
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            if judgeByStatus, (200..<300).contains(response.status.code) { return .delivered }
            // The first 64 KiB of the answer are enough to judge it (a webhook by its status, the
            // robot by its small JSON); a longer one is not read to the end, and not an error.
            var body: [UInt8] = []
            for try await chunk in response.body {
                body.append(contentsOf: chunk.readableBytesView.prefix(Self.answerLimit - body.count))
                if body.count >= Self.answerLimit { break }
            }
            let outcome = judge(response.status, body)
            let snippet = String(decoding: body.prefix(200), as: UTF8.self)
            func explain(_ reason: String) -> String { snippet.isEmpty ? reason : "\(reason): \(snippet)" }
            switch outcome {
            case .delivered: return .delivered
            case .failed(let reason): return .failed(explain(reason))
            case .unanswered(let reason): return .unanswered(explain(reason))
            case .permanent(let reason): return .permanent(explain(reason))
            }
        } catch {
            return Self.neverSent(error) ? .failed("\(error)") : .unanswered("\(error)")
        }
    }

    /// Whether a request that failed with `error` certainly never left: no connection could be
    /// opened for it. Anything else (a timeout while waiting for the answer, a connection closed
    /// after the request was written) may have reached the receiver.
    static func neverSent(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if case ChannelError.connectTimeout = error { return true }
        if let error = error as? HTTPClientError {
            return error == .connectTimeout || error == .getConnectionFromPoolTimeout
        }
        return false
    }

    static let answerLimit = 64 * 1024

    /// 2xx delivered; 408, 429 and 5xx retried; other 4xx need someone to fix something.
    static func classify(_ status: HTTPResponseStatus) -> DeliveryOutcome {
        switch status.code {
        case 200..<300: return .delivered
        case 408, 425, 429, 500...: return .failed("HTTP \(status.code)")
        default: return .permanent("HTTP \(status.code)")
        }
    }
}

/// The WeCom group-robot message for a payload (markdown, at most 4096 bytes).
enum WeComMessage {
    static func body(_ payload: JSONObject) -> JSONValue {
        let lines = (payload["message"]?.stringValue ?? payload["summary"]?.stringValue ?? "").split(
            separator: "\n", omittingEmptySubsequences: false)
        var content = ""
        for (index, line) in lines.enumerated() {
            let text = index == 0 ? "**\(line)**" : (index == 1 ? "> \(line)" : String(line))
            if content.utf8.count + text.utf8.count + 1 > 4000 {
                content += "\n……"
                break
            }
            content += (content.isEmpty ? "" : "\n") + text
        }
        return ["msgtype": "markdown", "markdown": ["content": .string(content)]]
    }
}
