import DudaoObservability
import DudaoWire
import Logging
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The members every frame service reads the same way: `listen` (and the frame limits), `tls`,
/// `metrics` and `access_file`.
public struct FrameServiceBasics: Sendable {
    public var server: FrameServerConfiguration
    public var tls: TLSFiles
    /// `metrics`: the HTTP port for /metrics, /health and /ready (none when absent).
    public var metrics: HTTPAddress?
    public var accessPath: String

    public init(file: ConfigFile, defaultPort: Int, defaultInFlight: Int) throws(ConfigError) {
        server = try file.frameServer(defaultPort: defaultPort, defaultInFlight: defaultInFlight)
        tls = try file.tlsFiles()
        metrics = try file.metricsAddress()
        accessPath = try file.filePath("access_file", default: "access.json")
    }
}

/// What the settings of every frame service (ingest, indicators, safety, notify) hold: the
/// bootstrap reads them and serves with them.
public protocol FrameServiceSettings: Sendable {
    /// `dudao-ingest`: the logger's label and the announce lines.
    static var service: String { get }
    /// `DUDAO_INGEST_`: environment variables with this prefix override the file's members.
    static var environmentPrefix: String { get }
    init(file: ConfigFile) throws
    var basics: FrameServiceBasics { get }
}

extension FrameServiceSettings {
    public var server: FrameServerConfiguration { basics.server }
    public var tls: TLSFiles { basics.tls }
    public var metrics: HTTPAddress? { basics.metrics }
    public var accessPath: String { basics.accessPath }
}

/// The files a start reads before it opens a store, read as a start reads them (settings,
/// access file, what the service needs besides (a catalog, a routes file), then the TLS files);
/// `check-config` reads the same.
public struct ServiceFiles<Settings: FrameServiceSettings>: Sendable {
    public let settings: Settings
    public let access: AccessPolicy
    public let tls: TLSMaterial

    /// `logger`, when given, gets the effective settings (secrets redacted) once they are valid.
    public init(config path: String, logger: Logger? = nil) throws {
        self = try Self.read(config: path, logger: logger) { _ in () }.files
    }

    /// Also reads `extra` (the service's own files), after the access file and before TLS.
    public static func read<Extra>(
        config path: String, logger: Logger? = nil, extra: (Settings) throws -> Extra
    ) throws -> (files: Self, extra: Extra) {
        let file = try ConfigFile(path: path, environmentPrefix: Settings.environmentPrefix)
        let settings = try Settings(file: file)
        logger?.info("configuration", metadata: ["file": "\(path)", "settings": "\(file.redactedDescription)"])
        let access = try AccessPolicy(path: settings.accessPath)
        let more = try extra(settings)
        return (Self(settings: settings, access: access, tls: try TLSMaterial(files: settings.tls)), more)
    }

    private init(settings: Settings, access: AccessPolicy, tls: TLSMaterial) {
        self.settings = settings
        self.access = access
        self.tls = tls
    }
}

/// One start-up for every frame service: the logger, the configuration (a mistake is a
/// ``ConfigurationFailure``, exit 78), the metrics registry, the frame port with its announce
/// line, and a run that adds what each service has (reloads on SIGHUP, the HTTP surface).
public struct ServiceBootstrap<Settings: FrameServiceSettings>: Sendable {
    public let logger: Logger
    public let settings: Settings
    public let tls: TLSMaterial
    /// The access file's grants, replaced on SIGHUP.
    public let policy: Reloadable<AccessPolicy>
    /// Bootstrapped before the service makes any metric.
    public let registry: PrometheusCollectorRegistry

    public init(config path: String) throws(ConfigurationFailure) {
        self = try Self.start(config: path) { _ in () }.bootstrap
    }

    /// Also reads the service's own files (a catalog, a routes file) with the same error handling.
    public static func start<Extra>(
        config path: String, reading extra: (Settings) throws -> Extra
    ) throws(ConfigurationFailure) -> (bootstrap: Self, extra: Extra) {
        let logger = ServiceRuntime.makeLogger(label: Settings.service, configPath: path)
        let (files, more) = try ServiceRuntime.configured(logger: logger) {
            try ServiceFiles<Settings>.read(config: path, logger: logger, extra: extra)
        }
        return (Self(logger: logger, files: files), more)
    }

    private init(logger: Logger, files: ServiceFiles<Settings>) {
        self.logger = logger
        settings = files.settings
        tls = files.tls
        policy = Reloadable(files.access)
        registry = DudaoMetrics.bootstrap()
    }

    /// Binds the frame port and prints `NAME listening on HOST:PORT` (the port actually bound;
    /// scripts and tests wait for it) and tells systemd the service is ready.
    public func listen(_ factory: any FrameSessionFactory) async throws -> FrameServer {
        let server = try await FrameServer.start(
            configuration: settings.server, tls: tls, group: MultiThreadedEventLoopGroup.singleton, factory: factory, logger: logger)
        ServiceRuntime.announce("\(Settings.service) listening on \(settings.server.host):\(server.port)")
        return server
    }

    /// Runs `services` (started first to last, stopped last to first) until SIGTERM or SIGINT,
    /// with, stopped before them: the reload on SIGHUP (TLS files and revocation list, cutting
    /// revoked peers of `servers`; the access file; then `reloading`) and, when `metrics` is
    /// configured, the HTTP surface (`ready` answers `/ready`, `collect` runs before a scrape).
    public func run(
        _ services: [any Service], servers: [FrameServer], reloading: [ReloadStep] = [],
        ready: @escaping @Sendable () -> Bool = { true }, collect: @escaping @Sendable () async -> Void = {}
    ) async throws {
        let steps = [ReloadStep.tls(tls, servers: servers, logger: logger), .accessFile(policy, path: settings.accessPath)] + reloading
        var all = services + [ReloadService(steps: steps, logger: logger) as any Service]
        if let address = settings.metrics {
            all.append(
                HealthEndpoint(
                    service: Settings.service, settings: address, registry: registry, logger: logger, ready: ready, collect: collect))
        }
        try await ServiceRuntime.run(all, logger: logger)
        logger.info("stopped")
    }
}
