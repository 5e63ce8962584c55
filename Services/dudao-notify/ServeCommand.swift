import ArgumentParser
import DudaoCore
import DudaoObservability
import DudaoService
import DudaoStorage
import DudaoWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `dudao-notify [serve] --config deploy/notify.json`: the service.
struct ServeCommand: ServiceCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the service (the default).")

    @Option(name: .long, help: "The configuration file (JSON). Environment variables DUDAO_NOTIFY_* override its members.")
    var config: String = "deploy/notify.json"

    func serve() async throws {
        let (start, routes) = try ServiceBootstrap<NotifyConfig>.start(config: config) { try RoutesFile.load(path: $0.routesPath) }
        let (settings, logger) = (start.settings, start.logger)
        let database = try NotifySchema.open(settings.store, logger: logger, exclusive: true)
        let clock = SystemClock()
        let engine = AlertEngine(
            routes: routes, retry: settings.retry, dedupeWindowMillis: settings.dedupeWindowMillis,
            historyMillis: settings.historyMillis,
            displayOffsetMinutes: settings.displayOffsetMinutes)
        let channels = try ChannelSenders(
            routes: routes, concurrency: settings.concurrency, time: LocalTime(offsetMinutes: settings.displayOffsetMinutes))
        let doorbell = Doorbell()
        let writer = NotifyWriter(
            database: database, engine: engine, clock: clock, maxBatch: settings.maxBatch, logger: logger,
            onDeliveries: { doorbell.ring() })
        writer.start()
        let dispatcher = DeliveryDispatcher(
            database: database, writer: writer, engine: engine, channels: channels, clock: clock, concurrency: settings.concurrency,
            doorbell: doorbell, logger: logger)
        let context = NotifyContext(policy: start.policy, writer: writer, engine: engine, database: database, clock: clock, logger: logger)
        logger.info(
            "routes loaded",
            metadata: [
                "routes": "\(routes.routes.count)", "departments": "\(routes.departments.count)",
                "file": "\(settings.routesPath)",
            ])
        let server = try await start.listen(NotifySessionFactory(context: context))
        let timers = NotifyTimers(writer: writer, engine: engine, tickSeconds: settings.tickSeconds, logger: logger)
        let routesStep = ReloadStep("routes file \(settings.routesPath)") {
            let reloaded = try RoutesFile.load(path: settings.routesPath)
            engine.replaceRoutes(reloaded)
            channels.live.replace(reloaded)
        }
        let figures = GaugeFamily("dudao_notify", dimensions: ["figure"])
        // Stopped last to first: the server (every frame it read is answered), the timers, the
        // dispatcher (deliveries in flight finish), the HTTP client, then the writer (everything
        // queued is committed).
        try await start.run(
            [writer, channels, dispatcher, timers, server], servers: [server], reloading: [routesStep],
            collect: {
                guard let status = try? await database.read({ db in try engine.status(db: db, now: clock.now()) }).objectValue else { return }
                for (name, value) in status { figures.record([name], Double(value.intValue ?? 0)) }
            })
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
            let (files, routes) = try ServiceFiles<NotifyConfig>.read(config: config) { try RoutesFile.load(path: $0.routesPath) }
            return "\(files.access.grants.count) identities, \(routes.routes.count) routes, \(routes.departments.count) departments"
        }
        if !ok { throw ExitCode(78) }
    }
}
