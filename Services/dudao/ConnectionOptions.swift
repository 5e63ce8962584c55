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

    func connect() async throws -> WireClient {
        let files = TLSFiles(directory: certs, name: identity)
        for path in [files.caPath, files.certificatePath, files.keyPath] where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("missing \(path): run `dudao certs init \(certs) --integrator \(identity)` or pass --certs/--identity")
        }
        let context = try files.makeClientContext()
        return try await WireClient.connect(host: host, port: port, tls: context, group: MultiThreadedEventLoopGroup.singleton)
    }
}
