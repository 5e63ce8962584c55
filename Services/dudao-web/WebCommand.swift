import ArgumentParser
import DudaoService
import DudaoWire
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import HummingbirdBcrypt
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

@main
struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dudao-web",
        abstract: "The live web dashboard: city overview, open one-key alarms, acknowledgement (a wire client of the services).",
        subcommands: [WebServe.self, HashPassword.self], defaultSubcommand: WebServe.self)
}

struct WebServe: ServiceCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the dashboard (the default).")

    @Option(help: "Configuration file (deploy/web.json). Env overrides: DUDAO_WEB_LISTEN_PORT=8081 etc.")
    var config: String = "deploy/web.json"

    func serve() async throws {
        let logger = ServiceRuntime.makeLogger(label: "dudao-web", configPath: config)
        let (settings, accounts) = try ServiceRuntime.configured(logger: logger) {
            let file = try ConfigFile(path: config, environmentPrefix: "DUDAO_WEB_")
            let settings = try WebConfig(file: file)
            for path in [settings.tls.caPath, settings.tls.certificatePath, settings.tls.keyPath]
            where !FileManager.default.fileExists(atPath: path) {
                throw ConfigError("\(config): missing \(path): issue the dashboard's client certificate with `dudao certs issue DIR dudao-web`")
            }
            return (settings, try AccountsFile.load(path: settings.accountsFile))
        }
        let backends = try Backends(config: settings)
        let poller = Poller(backends: backends, logger: logger)
        let app = try await WebApp(config: settings, accounts: accounts, poller: poller, backends: backends, logger: logger)
        let server: HTTPServerBuilder
        if let https = settings.https {
            let chain = try NIOSSLCertificate.fromPEMFile(https.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: https.key, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            server = try .tls(.http1(), tlsConfiguration: tls)
        } else {
            server = .http1()
        }
        let scheme = settings.https == nil ? "http" : "https"
        let application = Application(
            router: app.router(), server: server,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                ServiceRuntime.announceLine(
                    "dudao-web listening on \(settings.host):\(channel.localAddress?.port ?? settings.port) (\(scheme))")
            }, logger: logger)
        try await ServiceRuntime.run([poller, application, EventStreamsStopper(app: app)], logger: logger)
    }
}

/// Listed last, so stopped first: open `/events` streams end, and the HTTP server's graceful
/// shutdown does not wait for them.
struct EventStreamsStopper: Service {
    let app: WebApp

    func run() async throws {
        try? await gracefulShutdown()
        app.stopping.withLockedValue { $0 = true }
    }
}

struct HashPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password", abstract: "Print the bcrypt hash of a password (read from standard input) for the accounts file.")

    @Option(help: "bcrypt cost (work factor 2^cost).")
    var cost: Int = 12

    func run() async throws {
        guard (4...31).contains(cost) else { throw ValidationError("--cost must be from 4 to 31") }
        let password: String
        if isatty(0) != 0, let typed = getpass("password: ") {
            password = String(cString: typed)
        } else {
            password = readLine(strippingNewline: true) ?? ""
        }
        guard !password.isEmpty else { throw ValidationError("empty password") }
        print(Bcrypt.hash(password, cost: UInt8(cost)))
    }
}
