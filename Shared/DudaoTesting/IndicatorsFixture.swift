import DudaoCore
import DudaoWire
import Foundation

/// A running `dudao-ingest` and `dudao-indicators` sharing one PKI, each with its own database.
public final class IndicatorsFixture: @unchecked Sendable {
    // @unchecked: `indicators` is replaced only by `restartIndicators`, called from the one test task.
    public let ingest: IngestFixture
    public private(set) var indicators: ServiceProcess
    public let configPath: String
    private var generation = 0

    /// The repository's default catalog.
    public static var catalogPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/catalog/enping-2023-2025.json").path
    }

    /// The national assessment catalog, loaded beside the plan's as deploy/indicators.json does.
    public static var nationalCatalogPath: String {
        URL(fileURLWithPath: catalogPath).deletingLastPathComponent().appendingPathComponent("national-2020.json").path
    }

    /// The repository's sample data folder.
    public static var sampleDataPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/sample/data").path
    }

    /// The real `dudao-notify`, when the fixture was made with `notifyRoutes`.
    public private(set) var notify: ServiceProcess?

    /// - Parameters:
    ///   - settings: extra top-level members for indicators.json (`"reporting_file": …`).
    ///   - notifyRoutes: when given, a real `dudao-notify` with this routes file (same PKI) is
    ///     started first and the indicators deliver their events to it.
    public init(currentYear: Int = 2025, settings: String = "", notifyRoutes: String? = nil) throws {
        ingest = try IngestFixture()
        let root = ingest.root
        var notifyPort = 1
        if let notifyRoutes {
            let notify = try SafetyFixture.startNotify(root: root, routes: notifyRoutes)
            self.notify = notify
            notifyPort = notify.port
        }
        try root.write(
            "indicators.json",
            Self.config(ingestPort: ingest.port, currentYear: currentYear, notifyPort: notifyPort, settings: settings))
        configPath = root.file("indicators.json")
        indicators = try Self.launch(configPath: configPath, root: root, port: 0, generation: 0)
    }

    /// indicators.json for a test folder laid out by ``IngestFixture`` (certs/, access.json, data/).
    public static func config(ingestPort: Int, currentYear: Int = 2025, notifyPort: Int = 1, settings: String = "") -> String {
        let extra = settings.isEmpty ? "" : ",\n" + settings
        return """
        {"listen": {"host": "127.0.0.1", "port": 0},
         "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-indicators.pem", "key": "certs/dudao-indicators.key"},
         "access_file": "access.json", "database": "data/indicators.sqlite",
         "catalog": "\(Self.catalogPath)", "extra_catalogs": ["\(Self.nationalCatalogPath)"],
         "ingest": {"host": "127.0.0.1", "port": \(ingestPort)},
         "notify": {"host": "127.0.0.1", "port": \(notifyPort)},
         "current_year": \(currentYear)\(extra)}
        """
    }

    public static func launch(configPath: String, root: TestDirectory, port: Int, generation: Int) throws -> ServiceProcess {
        try ServiceProcess(
            executable: "dudao-indicators", arguments: ["serve", "--config", configPath],
            environment: ["DUDAO_INDICATORS_LISTEN_PORT": String(port)], logTo: root.file("indicators-\(generation).log"))
    }

    public func killAndRestartIndicators() throws {
        let port = indicators.port
        indicators.kill9()
        generation += 1
        indicators = try Self.launch(configPath: configPath, root: ingest.root, port: port, generation: generation)
    }

    public func connectIndicators(as identity: String = "operator") async throws -> WireClient {
        try await WireClient.connect(host: "127.0.0.1", port: indicators.port, tls: try ingest.pki.clientContext(identity), serverIdentity: "dudao-indicators")
    }

    /// Asks `indicators.evaluate` and returns the rows by indicator id.
    public func evaluate(year: Int, scope: String) async throws -> [String: JSONValue] {
        let client = try await connectIndicators()
        let reply = try await client.request(
            Frame.query("indicators.evaluate", id: "e", body: ["year": .int(Int64(year)), "scope": .string(scope)]))
        await client.close()
        var rows: [String: JSONValue] = [:]
        for row in reply["body"]?["indicators"]?.arrayValue ?? [] {
            if let id = row["id"]?.stringValue { rows[id] = row }
        }
        return rows
    }

    /// Waits until the indicators service has consumed the ingest log up to its head.
    public func waitUntilCaughtUp(timeout: Duration = .seconds(60)) async throws {
        try await ingest.waitUntilConsumed(by: ["dudao-indicators"], timeout: timeout)
    }

    public func stop() {
        indicators.stop()
        notify?.stop()
        ingest.stop()
    }
}
