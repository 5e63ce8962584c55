import ArgumentParser
import DudaoWire
import Foundation
import NIOPosix

/// Where to connect and as whom: shared by every command that talks to a service.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Host of the service.")
    var host: String = "127.0.0.1"

    @Option(help: "Port of the service (dudao-ingest: 7401).")
    var port: Int = 7401

    @Option(help: "Folder made by `dudao certs init` (ca.pem, NAME.pem, NAME.key). Env: DUDAO_CERTS.")
    var certs: String = ProcessInfo.processInfo.environment["DUDAO_CERTS"] ?? "run/certs"

    @Option(help: "Identity to connect as: the certificate NAME.pem in --certs. Env: DUDAO_IDENTITY.")
    var identity: String = ProcessInfo.processInfo.environment["DUDAO_IDENTITY"] ?? "operator"

    @Option(help: "The identity (certificate CN) the server must present; default: the service the command talks to. `*`: any CA-signed server certificate.")
    var serverIdentity: String?

    /// Connects to `service` (its identity is checked unless --server-identity says otherwise).
    /// `port` overrides `--port` (another instance of the same service).
    func connect(service: String = "dudao-ingest", port: Int? = nil) async throws -> WireClient {
        let files = TLSFiles(directory: certs, name: identity)
        for path in [files.caPath, files.certificatePath, files.keyPath] where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("missing \(path): run `dudao certs init \(certs) --integrator \(identity)` or pass --certs/--identity")
        }
        let context = try files.makeClientContext()
        let expected = serverIdentity ?? service
        return try await WireClient.connect(
            host: host, port: port ?? self.port, tls: context, serverIdentity: expected == "*" ? nil : expected,
            group: MultiThreadedEventLoopGroup.singleton)
    }
}

extension ConnectionOptions {
    /// The service a query type goes to: `indicators.*`, `safety.*`, `alerts.*` (notify), else the ingest.
    static func service(forQuery type: String) -> String {
        if type.hasPrefix("indicators.") { return "dudao-indicators" }
        if type.hasPrefix("safety.") { return "dudao-safety" }
        if type.hasPrefix("alerts.") { return "dudao-notify" }
        return "dudao-ingest"
    }
}
