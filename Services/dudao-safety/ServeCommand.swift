import ArgumentParser
import DudaoCore
import DudaoLinks
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
struct ServeCommand: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the service (the default when no subcommand is given).")

    @Option(name: .long, help: "The configuration file (JSON). Environment variables DUDAO_SAFETY_* override its members.")
    var config: String = "deploy/safety.json"

    func serve() async throws {
        let start = try ServiceBootstrap<SafetyConfig>(config: config)
        let (settings, logger, tls) = (start.settings, start.logger, start.tls)
        let loading = ContinuousClock.now
        let engine = try SafetyEngine.open(location: settings.store, clock: SystemClock(), settings: settings.engine, logger: logger, exclusive: true)
        let (devices, position) = engine.read { ($0.devices.count, $0.position) }
        logger.info(
            "state loaded",
            metadata: ["devices": "\(devices)", "position": "\(position)", "took": "\(ContinuousClock.now - loading)"])

        let server = try await start.listen(SafetyQueries.sessions(engine: engine, policy: start.policy, threadPool: NIOThreadPool.singleton))
        let consumer = LogConsumer(
            host: settings.ingest.host, port: settings.ingest.port, failover: settings.ingestFailover, tls: tls, serverIdentity: settings.ingest.identity, types: ["registry.*", "safety.*"],
            batchSize: settings.consumerBatch, logger: logger,
            position: { engine.consumerPosition() }, urgent: { $0.type == .safetyAlarm }, linkLost: { engine.linkLost() },
            apply: { records in try await engine.apply(records) })
        let sender = OutboxSender(
            database: engine.database, host: settings.notify.host, port: settings.notify.port, tls: tls, serverIdentity: settings.notify.identity,
            logger: logger)
        let liveness = LivenessLoop(
            engine: engine, checkIntervalMillis: settings.checkIntervalMillis, flushIntervalMillis: settings.lastSeenFlushMillis,
            logger: logger)
        // Stopped last to first: the sender, then the consumer (no more records), then the
        // liveness loop (its last flush sees every applied heartbeat), then the listener.
        try await start.run(
            [server, liveness, consumer, sender], servers: [server],
            ready: { consumer.isFollowing },
            collect: { SafetyMetrics.collect(engine: engine) })
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
            let files = try ServiceFiles<SafetyConfig>(config: config)
            let settings = files.settings
            return "\(files.access.grants.count) identities; ingest \(settings.ingest.identity) at \(settings.ingest.host):\(settings.ingest.port)"
        }
        if !ok { throw ExitCode(78) }
    }
}
