import ArgumentParser
import DudaoCore
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

    func run() async throws {
        let logger = ServiceRuntime.makeLogger(label: "dudao-notify")
        let (settings, policy, routes) = ServiceRuntime.configuration(logger: logger) {
            let settings = try NotifyConfig(file: ConfigFile(path: config, environmentPrefix: "DUDAO_NOTIFY_"))
            return (settings, try AccessPolicy(path: settings.accessPath), try RoutesFile.load(path: settings.routesPath))
        }
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
            configuration: settings.server, tls: try settings.tls.makeServerContext(),
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
        try await ServiceRuntime.run([writerService(writer), delivering, timers, serving], logger: logger)
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
