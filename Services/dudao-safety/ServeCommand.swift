import ArgumentParser
import DudaoConsumer
import DudaoFeeds
import DudaoService
import DudaoStorage
import DudaoWire
import Logging
import NIOCore
import NIOPosix

/// `dudao-safety [serve] --config FILE`: runs the service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the service (the default when no subcommand is given).")

    @Option(name: .long, help: "The configuration file (JSON). Environment variables DUDAO_SAFETY_* override its members.")
    var config: String = "deploy/safety.json"

    func run() async throws {
        let logger = ServiceRuntime.makeLogger(label: "dudao-safety")
        let (settings, policy) = ServiceRuntime.configuration(logger: logger) {
            let settings = try SafetyConfig(file: ConfigFile(path: config, environmentPrefix: "DUDAO_SAFETY_"))
            return (settings, try AccessPolicy(path: settings.accessPath))
        }
        let pool = try DurableDatabase.open(path: settings.databasePath, migrator: SafetyStore.migrator)
        let loading = ContinuousClock.now
        let engine = try SafetyEngine(pool: pool, clock: SystemClock(), settings: settings.engine, logger: logger)
        let (devices, position) = engine.read { ($0.devices.count, $0.position) }
        logger.info(
            "state loaded",
            metadata: ["devices": "\(devices)", "position": "\(position)", "took": "\(ContinuousClock.now - loading)"])

        let serverTLS = try settings.tls.makeServerContext()
        let clientTLS = try settings.tls.makeClientContext()
        let server = try await FrameServer.start(
            configuration: settings.server, tls: serverTLS, group: MultiThreadedEventLoopGroup.singleton,
            factory: SafetyQueries.sessions(engine: engine, policy: policy, threadPool: NIOThreadPool.singleton), logger: logger)
        ServiceRuntime.announce("dudao-safety listening on \(settings.server.host):\(server.port)")

        let consumer = LogConsumer(
            host: settings.ingest.host, port: settings.ingest.port, tls: clientTLS, types: ["registry.*", "safety.*"],
            batchSize: settings.consumerBatch, logger: logger,
            position: { engine.consumerPosition() }, urgent: { $0.type == .safetyAlarm },
            apply: { records in try await engine.apply(records) })
        let sender = OutboxSender(pool: pool, host: settings.notify.host, port: settings.notify.port, tls: clientTLS, logger: logger)
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
        try await ServiceRuntime.run(
            [serving, LoopService { await liveness.run() }, LoopService { await consumer.run() }, LoopService { await sender.run() }],
            logger: logger)
    }
}
