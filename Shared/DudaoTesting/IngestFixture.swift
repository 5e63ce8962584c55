import DudaoCore
import DudaoWire
import Foundation
import NIOPosix

/// A running `dudao-ingest` with its own certificates, configuration and database.
public final class IngestFixture: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `restart`/`kill9`, which a test calls from one task.
    public let root: TestDirectory
    public let pki: TestPKI
    public let configPath: String
    public private(set) var process: ServiceProcess
    /// Extra environment for every instance (`DUDAO_INGEST_DATABASE` for PostgreSQL).
    public let environment: [String: String]
    private var restarts = 0

    public var port: Int { process.port }
    public var databasePath: String { root.file("data/ingest.sqlite") }

    /// - Parameters:
    ///   - settings: extra top-level members for ingest.json (e.g. `"max_frame_bytes": 4096`).
    ///   - revocationList: `tls.revoked` is `revoked.json` in the test folder (written empty).
    ///   - environment: extra environment variables for the process (`DUDAO_INGEST_DATABASE`: a postgres:// URL).
    public init(settings: String = "", revocationList: Bool = false, environment: [String: String] = [:]) throws {
        self.environment = environment
        root = try TestDirectory("dudao-ingest")
        pki = try TestPKI(in: root)
        try root.write("access.json", TestPKI.accessFile)
        if revocationList { try root.write("revoked.json", #"{"serials": [], "identities": []}"#) }
        let revoked = revocationList ? #", "revoked": "revoked.json""# : ""
        let extra = settings.isEmpty ? "" : ",\n" + settings
        try root.write(
            "ingest.json",
            """
            {"listen": {"host": "127.0.0.1", "port": 0},
             "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/dudao-ingest.key"\(revoked)},
             "access_file": "access.json", "database": "data/ingest.sqlite",
             "consumers": ["dudao-indicators"]\(extra)}
            """)
        configPath = root.file("ingest.json")
        process = try Self.launch(configPath: configPath, root: root, port: 0, generation: 0, environment: environment)
    }

    static func launch(configPath: String, root: TestDirectory, port: Int, generation: Int, environment: [String: String]) throws
        -> ServiceProcess
    {
        try ServiceProcess(
            executable: "dudao-ingest", arguments: ["--config", configPath],
            environment: environment.merging(["DUDAO_INGEST_LISTEN_PORT": String(port)]) { $1 },
            logTo: root.file("ingest-\(generation).log"))
    }

    /// Another instance with the same configuration, certificates and database (PostgreSQL:
    /// several instances share one), on `port` (0: a new one); the caller stops it.
    public func launchInstance(port: Int = 0, label: String) throws -> ServiceProcess {
        try ServiceProcess(
            executable: "dudao-ingest", arguments: ["--config", configPath],
            environment: environment.merging(["DUDAO_INGEST_LISTEN_PORT": String(port)]) { $1 }, logTo: root.file("ingest-\(label).log"))
    }

    /// `kill -9` the ingest and start it again on the same port and database.
    public func killAndRestart() throws {
        let port = process.port
        process.kill9()
        restarts += 1
        process = try Self.launch(configPath: configPath, root: root, port: port, generation: restarts, environment: environment)
    }

    /// Registers the sample town and kindergarten (which heartbeats and censuses name).
    public func registerSampleKindergarten() async throws {
        let client = try await connect()
        _ = try await client.request(Frames.feed("t", "registry.town", SampleFeeds.town))
        _ = try await client.request(Frames.feed("k", "registry.institution", SampleFeeds.kindergarten))
        await client.close()
    }

    /// SIGTERM the ingest (a graceful stop), wait for it, start it again on the same port and
    /// database; returns the stopped process's exit status.
    @discardableResult
    public func terminateAndRestart() throws -> Int32 {
        let port = process.port
        process.stop()
        let status = process.process.terminationStatus
        restarts += 1
        process = try Self.launch(configPath: configPath, root: root, port: port, generation: restarts, environment: environment)
        return status
    }

    /// A connection to this instance, or to another one's `port` (`readsRecords`: as a log
    /// consumer connects, record frames read straight from their bytes).
    public func connect(as identity: String = "operator", port: Int? = nil, readsRecords: Bool = false) async throws -> WireClient {
        try await WireClient.connect(
            host: "127.0.0.1", port: port ?? self.port, tls: try pki.clientContext(identity), serverIdentity: "dudao-ingest",
            readsRecords: readsRecords)
    }

    /// Waits until each of `consumers` has committed a position at the ingest log's head.
    public func waitUntilConsumed(by consumers: [String], port: Int? = nil, timeout: Duration = .seconds(60)) async throws {
        let client = try await connect(port: port)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let status = try await client.request(Frame.query("ingest.status", id: "s"))["body"]
            let head = status?["head"]?.intValue ?? 0
            if head > 0, consumers.allSatisfy({ (status?["consumers"]?[$0]?.intValue ?? 0) >= head }) {
                await client.close()
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        await client.close()
        throw ServiceProcessError(message: "\(consumers.joined(separator: ", ")) did not catch up with the ingest log")
    }

    public func stop() {
        process.stop()
        root.remove()
    }
}

/// Envelope builders for tests.
public enum Frames {
    public static func feed(_ id: String, _ type: String, _ body: JSONValue) -> JSONValue {
        Frame.feed(id: id, type: type, body: body)
    }

    public static func query(_ id: String, _ type: String, _ body: JSONValue = [:]) -> JSONValue {
        Frame.query(type, id: id, body: body)
    }
}
