import DudaoCore
import DudaoWire
import Foundation

/// A running `dudao-ingest` and `dudao-safety` sharing one folder, one PKI and one access file;
/// safety follows the ingest's log and delivers its events to `notifyPort` (default 1: nothing
/// listens there, so events stay in safety's durable outbox).
public final class SafetyFixture: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `killAndRestart`/`restart`, which a test calls from one task.
    public let ingest: IngestFixture
    public let configPath: String
    public private(set) var process: ServiceProcess
    public private(set) var notifyPort: Int
    /// The real `dudao-notify`, when the fixture was made with `notifyRoutes`.
    public private(set) var notify: ServiceProcess?
    private var restarts = 0
    /// Extra environment for the safety process (`DUDAO_SAFETY_INGEST_FAILOVER`, …).
    private let environment: [String: String]

    public var root: TestDirectory { ingest.root }
    public var pki: TestPKI { ingest.pki }
    public var port: Int { process.port }
    public var databasePath: String { root.file("data/safety.sqlite") }

    /// - Parameters:
    ///   - settings: extra top-level members for safety.json (e.g. `"offline_after_seconds": 1`).
    ///   - notifyPort: where safety sends its events (ignored with `notifyRoutes`).
    ///   - access: safety's own access file (default: the ingest's, ``TestPKI/accessFile``).
    ///   - notifyRoutes: when given, a real `dudao-notify` with this routes file (same PKI) is
    ///     started first and safety delivers to it.
    ///   - ingestEnvironment, environment: extra environment for the ingest and for safety.
    public init(
        settings: String = "", notifyPort: Int = 1, access: String? = nil, notifyRoutes: String? = nil,
        ingestEnvironment: [String: String] = [:], environment: [String: String] = [:]
    ) throws {
        ingest = try IngestFixture(environment: ingestEnvironment)
        self.environment = environment
        var notifyPort = notifyPort
        if let notifyRoutes {
            let notify = try Self.startNotify(root: ingest.root, routes: notifyRoutes)
            self.notify = notify
            notifyPort = notify.port
        }
        try ingest.root.write("safety-access.json", access ?? TestPKI.accessFile)
        let extra = settings.isEmpty ? "" : ",\n" + settings
        try ingest.root.write(
            "safety.json",
            """
            {"listen": {"host": "127.0.0.1", "port": 0},
             "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-safety.pem", "key": "certs/dudao-safety.key"},
             "access_file": "safety-access.json", "database": "data/safety.sqlite",
             "ingest": {"host": "127.0.0.1", "port": \(ingest.port)}, "notify": {"host": "127.0.0.1", "port": \(notifyPort)}\(extra)}
            """)
        configPath = ingest.root.file("safety.json")
        self.notifyPort = notifyPort
        process = try Self.launch(
            configPath: configPath, root: ingest.root, port: 0, notifyPort: notifyPort, generation: 0, environment: environment)
    }

    static func startNotify(root: TestDirectory, routes: String) throws -> ServiceProcess {
        try root.write("notify-access.json", NotifyFixture.accessFile)
        try root.write("routes.json", routes)
        try root.write("notify.json", NotifyFixture.config(accessFile: "notify-access.json", maxAttempts: 6))
        return try ServiceProcess(
            executable: "dudao-notify", arguments: ["--config", root.file("notify.json")], logTo: root.file("notify-0.log"))
    }

    static func launch(
        configPath: String, root: TestDirectory, port: Int, notifyPort: Int, generation: Int, environment: [String: String]
    ) throws -> ServiceProcess {
        try ServiceProcess(
            executable: "dudao-safety", arguments: ["--config", configPath],
            environment: environment.merging(["DUDAO_SAFETY_LISTEN_PORT": String(port), "DUDAO_SAFETY_NOTIFY_PORT": String(notifyPort)]) { $1 },
            logTo: root.file("safety-\(generation).log"))
    }

    /// `kill -9` the safety service and start it again on the same port and database
    /// (delivering to `notifyPort` from now on, when given).
    public func killAndRestart(notifyPort: Int? = nil) throws {
        let port = process.port
        process.kill9()
        if let notifyPort { self.notifyPort = notifyPort }
        restarts += 1
        process = try Self.launch(configPath: configPath, root: root, port: port, notifyPort: self.notifyPort, generation: restarts, environment: environment)
    }

    /// SIGTERM the safety service, wait for it to exit, and start it again on the same port.
    public func restart() throws {
        let port = process.port
        process.stop()
        restarts += 1
        process = try Self.launch(configPath: configPath, root: root, port: port, notifyPort: notifyPort, generation: restarts, environment: environment)
    }

    /// A client of the safety service.
    public func connect(as identity: String = "operator") async throws -> WireClient {
        try await WireClient.connect(host: "127.0.0.1", port: port, tls: try pki.clientContext(identity), serverIdentity: "dudao-safety")
    }

    /// Asks one query of the safety service and returns the whole reply frame.
    public func query(_ type: String, _ body: JSONValue = [:], as identity: String = "operator") async throws -> JSONValue {
        let client = try await connect(as: identity)
        do {
            let reply = try await client.request(Frames.query("q-\(type)", type, body))
            await client.close()
            return reply
        } catch {
            await client.close()
            throw error
        }
    }

    /// The frames in safety's outbox (queued for `dudao-notify`, not yet acknowledged).
    public func outbox() async throws -> [JSONValue] {
        try await query("safety.outbox", ["limit": 10_000])["body"]?["frames"]?.arrayValue ?? []
    }

    /// Polls `condition` every 100 ms until it holds or `seconds` pass; returns whether it held.
    public static func eventually(within seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    public func stop() {
        process.stop()
        notify?.stop()
        ingest.stop()
    }
}
