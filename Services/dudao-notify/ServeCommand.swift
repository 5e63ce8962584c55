import ArgumentParser
import DudaoCore
import DudaoObservability
import DudaoService
import DudaoStorage
import DudaoWire
import GRDB
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `dudao-notify [serve] --config deploy/notify.json`: the service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the service (the default).")

    @Option(name: .long, help: "The configuration file (JSON). Environment variables DUDAO_NOTIFY_* override its members.")
    var config: String = "deploy/notify.json"

    /// Everything a start reads before it opens the store: a mistake here is exit 78.
    /// `logger`, when given, gets the effective settings (secrets redacted) once they are valid.
    static func read(config: String, logger: Logger? = nil) throws -> (NotifyConfig, AccessPolicy, Routes, TLSMaterial) {
        let file = try ConfigFile(path: config, environmentPrefix: "DUDAO_NOTIFY_")
        let settings = try NotifyConfig(file: file)
        logger?.info("configuration", metadata: ["file": "\(config)", "settings": "\(file.redactedDescription)"])
        return (
            settings, try AccessPolicy(path: settings.accessPath), try RoutesFile.load(path: settings.routesPath),
            try TLSMaterial(files: settings.tls)
        )
    }

    func run() async throws {
        let logger = ServiceRuntime.makeLogger(label: "dudao-notify", configPath: config)
        let (settings, access, routes, tls) = ServiceRuntime.configuration(logger: logger) { try Self.read(config: config, logger: logger) }
        let policy = Reloadable(access)
        let pool = try NotifySchema.open(path: settings.databasePath)
        let clock = SystemClock()
        let engine = AlertEngine(
            routes: routes, retry: settings.retry, dedupeWindowMillis: settings.dedupeWindowMillis,
            historyMillis: settings.historyMillis,
            displayOffsetMinutes: settings.displayOffsetMinutes)
        let channels = try ChannelSenders(
            routes: routes, concurrency: settings.concurrency, time: LocalTime(offsetMinutes: settings.displayOffsetMinutes))
        let doorbell = Doorbell()
        let writer = NotifyWriter(
            pool: pool, engine: engine, clock: clock, maxBatch: settings.maxBatch, logger: logger,
            onDeliveries: { doorbell.ring() })
        writer.start()
        let dispatcher = DeliveryDispatcher(
            pool: pool, writer: writer, engine: engine, channels: channels, clock: clock, concurrency: settings.concurrency,
            doorbell: doorbell, logger: logger)
        let context = NotifyContext(policy: policy, writer: writer, engine: engine, pool: pool, clock: clock, logger: logger)
        let server = try await FrameServer.start(
            configuration: settings.server, tls: tls,
            group: MultiThreadedEventLoopGroup.singleton,
            factory: NotifySessionFactory(context: context), logger: logger)
        logger.info(
            "routes loaded",
            metadata: [
                "routes": "\(routes.routes.count)", "departments": "\(routes.departments.count)",
                "file": "\(settings.routesPath)",
            ])
        // One line on stdout for scripts and tests: the port actually bound.
        ServiceRuntime.announce("dudao-notify listening on \(settings.server.host):\(server.port)")

        let serving = DudaoService.ClosureService(body: { await server.waitUntilClosed() }, onShutdown: { await server.close() })
        let delivering = DudaoService.ClosureService(body: { await dispatcher.run() }, onShutdown: { dispatcher.stop() })
        let timers = TimerService(seconds: settings.tickSeconds) { tickCount in
            do {
                _ = try await writer.perform { db, now, effects in
                    try engine.tick(db: db, now: now, effects: &effects)
                    // Housekeeping about every ten minutes.
                    if tickCount % max(1, Int(600 / settings.tickSeconds)) == 1 { try engine.compact(db: db, now: now) }
                    return nil
                }
            } catch {
                logger.error("timers failed", metadata: ["error": "\(error)"])
            }
        }
        let routesStep = ReloadStep("routes file \(settings.routesPath)") {
            let reloaded = try RoutesFile.load(path: settings.routesPath)
            engine.replaceRoutes(reloaded)
            channels.live.replace(reloaded)
        }
        let reload = ReloadService(
            steps: [.tls(tls, servers: [server], logger: logger), .accessFile(policy, path: settings.accessPath), routesStep],
            logger: logger)
        var services: [any Service] = [writerService(writer), delivering, timers, serving, reload]
        if let address = settings.metrics {
            let registry = DudaoMetrics.bootstrap()
            let figures = GaugeFamily("dudao_notify", dimensions: ["figure"])
            services.append(
                HealthEndpoint(
                    service: "dudao-notify", settings: address, registry: registry, logger: logger,
                    collect: {
                        guard let status = try? await pool.read({ db in try engine.status(db: db, now: clock.now()) }).objectValue else { return }
                        for (name, value) in status { figures.record([name], Double(value.intValue ?? 0)) }
                    }))
        }
        try await ServiceRuntime.run(services, logger: logger)
        await channels.shutdown()
        logger.info("stopped")
    }

    /// Stops the writer last (services shut down in reverse order): everything queued is committed.
    private func writerService(_ writer: NotifyWriter) -> DudaoService.ClosureService {
        let stopped = AsyncStream<Void>.makeStream()
        return DudaoService.ClosureService(
            body: {
                for await _ in stopped.stream {}
                writer.stop()
            },
            onShutdown: { stopped.continuation.finish() })
    }
}

/// `dudao-notify check-config --config FILE`.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration, access and routes files without starting.")

    @Option(name: .long, help: "The configuration file (JSON).")
    var config: String = "deploy/notify.json"

    func run() throws {
        let ok = ConfigurationCheck.run(configPath: config) {
            let (_, policy, routes, _) = try ServeCommand.read(config: config)
            return "\(policy.grants.count) identities, \(routes.routes.count) routes, \(routes.departments.count) departments"
        }
        if !ok { throw ExitCode(78) }
    }
}

/// Runs `work` every `seconds` (fractions allowed) until graceful shutdown; `work` gets a counter.
struct TimerService: Service {
    let seconds: Double
    let work: @Sendable (Int) async -> Void

    init(seconds: Double, work: @escaping @Sendable (Int) async -> Void) {
        self.seconds = seconds
        self.work = work
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var count = 0
            while !Task.isCancelled {
                do { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) } catch { return }
                count += 1
                await work(count)
            }
        }
    }
}
