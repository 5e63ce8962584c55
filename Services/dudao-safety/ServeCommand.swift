import ArgumentParser
import DudaoConsumer
import DudaoObservability
import DudaoFeeds
import DudaoService
import DudaoStorage
import DudaoWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `dudao-safety [serve] --config FILE`: runs the service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the service (the default when no subcommand is given).")

    @Option(name: .long, help: "The configuration file (JSON). Environment variables DUDAO_SAFETY_* override its members.")
    var config: String = "deploy/safety.json"

    /// Everything a start reads before it opens the store: a mistake here is exit 78.
    /// `logger`, when given, gets the effective settings (secrets redacted) once they are valid.
    static func read(config: String, logger: Logger? = nil) throws -> (SafetyConfig, AccessPolicy, TLSMaterial) {
        let file = try ConfigFile(path: config, environmentPrefix: "DUDAO_SAFETY_")
        let settings = try SafetyConfig(file: file)
        logger?.info("configuration", metadata: ["file": "\(config)", "settings": "\(file.redactedDescription)"])
        return (settings, try AccessPolicy(path: settings.accessPath), try TLSMaterial(files: settings.tls))
    }

    func run() async throws {
        let logger = ServiceRuntime.makeLogger(label: "dudao-safety", configPath: config)
        let (settings, access, tls) = ServiceRuntime.configuration(logger: logger) { try Self.read(config: config, logger: logger) }
        let policy = Reloadable(access)
        let pool = try DurableDatabase.open(path: settings.databasePath, migrator: SafetyStore.migrator)
        let loading = ContinuousClock.now
        let engine = try SafetyEngine(pool: pool, clock: SystemClock(), settings: settings.engine, logger: logger)
        let (devices, position) = engine.read { ($0.devices.count, $0.position) }
        logger.info(
            "state loaded",
            metadata: ["devices": "\(devices)", "position": "\(position)", "took": "\(ContinuousClock.now - loading)"])

        let server = try await FrameServer.start(
            configuration: settings.server, tls: tls, group: MultiThreadedEventLoopGroup.singleton,
            factory: SafetyQueries.sessions(engine: engine, policy: policy, threadPool: NIOThreadPool.singleton), logger: logger)
        ServiceRuntime.announce("dudao-safety listening on \(settings.server.host):\(server.port)")

        let consumer = LogConsumer(
            host: settings.ingest.host, port: settings.ingest.port, tls: tls, serverIdentity: settings.ingest.identity, types: ["registry.*", "safety.*"],
            batchSize: settings.consumerBatch, logger: logger,
            position: { engine.consumerPosition() }, urgent: { $0.type == .safetyAlarm }, linkLost: { engine.linkLost() },
            apply: { records in try await engine.apply(records) })
        let sender = OutboxSender(
            pool: pool, host: settings.notify.host, port: settings.notify.port, tls: tls, serverIdentity: settings.notify.identity,
            logger: logger)
        let liveness = LivenessLoop(
            engine: engine, checkIntervalMillis: settings.checkIntervalMillis, flushIntervalMillis: settings.lastSeenFlushMillis,
            logger: logger)
        let serving = ClosureService(
            body: { await server.waitUntilClosed() },
            onShutdown: {
                await server.close()
                logger.info("stopped")
            })
        // Shut down in reverse: the sender, then the consumer (no more records), then the
        // liveness loop (its last flush sees every applied heartbeat), then the listener.
        var services: [any Service] = [
            serving, LoopService { await liveness.run() }, LoopService { await consumer.run() }, LoopService { await sender.run() },
            ReloadService(steps: [.tls(tls, servers: [server], logger: logger), .accessFile(policy, path: settings.accessPath)], logger: logger),
        ]
        if let address = settings.metrics {
            services.append(
                HealthEndpoint(
                    service: "dudao-safety", settings: address, registry: DudaoMetrics.bootstrap(), logger: logger,
                    ready: { consumer.isFollowing },
                    collect: { SafetyMetrics.collect(engine: engine) }))
        }
        try await ServiceRuntime.run(services, logger: logger)
    }
}

/// `dudao-safety check-config --config FILE`.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration and the files it names without starting.")

    @Option(name: .long, help: "The configuration file (JSON).")
    var config: String = "deploy/safety.json"

    func run() throws {
        let ok = ConfigurationCheck.run(configPath: config) {
            let (settings, policy, _) = try ServeCommand.read(config: config)
            return "\(policy.grants.count) identities; ingest \(settings.ingest.identity) at \(settings.ingest.host):\(settings.ingest.port)"
        }
        if !ok { throw ExitCode(78) }
    }
}
