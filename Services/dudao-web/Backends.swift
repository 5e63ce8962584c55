import DudaoCore
import DudaoService
import DudaoWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A query the service refused (its nack), or one that could not be asked.
struct BackendError: Error, CustomStringConvertible {
    var description: String
    /// The service's error code, when it answered with a nack.
    var code: WireErrorCode? = nil
}

/// Asking the services as the wire client `dudao-web` (mutual TLS, the server's identity checked).
struct Backends: Sendable {
    let config: WebConfig
    let tls: NIOSSLContext

    init(config: WebConfig) throws {
        self.config = config
        self.tls = try config.tls.makeClientContext()
    }

    func connect(_ endpoint: Endpoint) async throws -> WireClient {
        try await WireClient.connect(
            host: endpoint.host, port: endpoint.port, tls: tls, serverIdentity: endpoint.identity,
            group: MultiThreadedEventLoopGroup.singleton)
    }

    /// One query on `client`; the result body, or the nack as an error.
    static func ask(_ client: WireClient, _ type: String, _ body: JSONObject) async throws -> JSONValue {
        do {
            return try await client.query(type, body: .object(body))
        } catch let refused as QueryRefused {
            throw BackendError(description: refused.description, code: refused.error?.code)
        }
    }

    /// One query on a connection of its own (for the rare requests: acknowledging an alarm).
    func askOnce(_ endpoint: Endpoint, _ type: String, _ body: JSONObject) async throws -> JSONValue {
        try await withConnection(endpoint) { client in try await Self.ask(client, type, body) }
    }

    /// `body` on a connection of its own to `endpoint`, closed afterwards (the pages that ask
    /// several queries: a town's kindergartens and devices, a report).
    func withConnection<T: Sendable>(_ endpoint: Endpoint, _ body: (WireClient) async throws -> T) async throws -> T {
        let client = try await connect(endpoint)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}

/// What the services said at the last poll.
struct Snapshot: Sendable {
    /// `safety.overview` (city and every town).
    var overview: JSONValue?
    /// Firing `safety.alarm` alerts from notify's `alerts.list`.
    var alarms: [JSONValue] = []
    /// Why the last poll failed, for the page's banner.
    var problems: [String] = []
    var fetchedAt: Timestamp?
    /// Changes whenever the content does, so `/events` pushes only news.
    var version: Int = 0
}

/// Polls dudao-safety and dudao-notify every `pollSeconds` over connections it keeps open
/// (reconnecting after a failure) and publishes the result.
final class Poller: Service, Sendable {
    let backends: Backends
    let logger: Logger
    private let state = NIOLockedValueBox(Snapshot())

    init(backends: Backends, logger: Logger) {
        self.backends = backends
        self.logger = logger
    }

    var snapshot: Snapshot { state.withLockedValue { $0 } }

    /// Asks again at once (after an acknowledgement, so the page shows it without waiting).
    func pollNow() async {
        var temporary = Clients()
        await poll(clients: &temporary)
        await temporary.safety?.close()
        await temporary.notify?.close()
    }

    func run() async throws {
        var clients = Clients()
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                await poll(clients: &clients)
                try? await Task.sleep(for: .milliseconds(Int(backends.config.pollSeconds * 1000)))
            }
        } onGracefulShutdown: {}
        await clients.safety?.close()
        await clients.notify?.close()
    }

    static func withoutAsOf(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object): .object(JSONObject(object.members.filter { $0.key != "as_of" }.map { ($0.key, withoutAsOf($0.value)) }))
        case .array(let array): .array(array.map(withoutAsOf))
        default: value
        }
    }

    struct Clients {
        var safety: WireClient?
        var notify: WireClient?
    }

    private func poll(clients: inout Clients) async {
        var overview: JSONValue?
        var alarms: [JSONValue]?
        var problems: [String] = []
        do {
            if clients.safety == nil { clients.safety = try await backends.connect(backends.config.safety) }
            overview = try await Backends.ask(clients.safety!, "safety.overview", [:])
        } catch {
            problems.append("dudao-safety（\(backends.config.safety.host):\(backends.config.safety.port)）：\(error)")
            await clients.safety?.close()
            clients.safety = nil
        }
        do {
            if clients.notify == nil { clients.notify = try await backends.connect(backends.config.notify) }
            let result = try await Backends.ask(
                clients.notify!, "alerts.list", ["status": "firing", "event": "safety.alarm", "limit": 200])
            alarms = result["alerts"]?.arrayValue ?? []
        } catch {
            problems.append("dudao-notify（\(backends.config.notify.host):\(backends.config.notify.port)）：\(error)")
            await clients.notify?.close()
            clients.notify = nil
        }
        let now = Timestamp.now()
        state.withLockedValue { snapshot in
            var next = snapshot
            if let overview { next.overview = overview }
            if let alarms { next.alarms = alarms }
            next.problems = problems
            next.fetchedAt = now
            // `as_of` (the service's clock) changes at every poll: only the figures count as news.
            if next.overview.map(Self.withoutAsOf) != snapshot.overview.map(Self.withoutAsOf) || next.alarms != snapshot.alarms
                || next.problems != snapshot.problems
            {
                next.version = snapshot.version + 1
            }
            snapshot = next
        }
        if !problems.isEmpty { logger.warning("poll: \(problems.joined(separator: "; "))") }
    }
}
