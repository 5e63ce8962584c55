import ArgumentParser
import DudaoCore
import DudaoObservability
import DudaoService
import DudaoWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `dudao-ingest`: accepts feeds from integrators, validates them, stores them durably and
/// streams them to the downstream services.
@main
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dudao-ingest",
        abstract: "Accept, validate and durably store Dudao feeds; stream them to the downstream services.",
        subcommands: [Serve.self, CheckConfig.self], defaultSubcommand: Serve.self)

    /// Everything a start reads before it opens the store: a mistake here is exit 78.
    /// `logger`, when given, gets the effective settings (secrets redacted) once they are valid.
    static func read(config: String, logger: Logger? = nil) throws -> (IngestConfig, AccessPolicy, TLSMaterial) {
        let file = try ConfigFile(path: config, environmentPrefix: "DUDAO_INGEST_")
        let settings = try IngestConfig(file: file)
        logger?.info("configuration", metadata: ["file": "\(config)", "settings": "\(file.redactedDescription)"])
        return (settings, try AccessPolicy(path: settings.accessPath), try TLSMaterial(files: settings.tls))
    }

    struct CheckConfig: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config", abstract: "Validate the configuration and the files it names without starting.")

        @Option(name: .long, help: "The configuration file (JSON).")
        var config: String = "deploy/ingest.json"

        func run() throws {
            let ok = ConfigurationCheck.run(configPath: config) {
                let (_, policy, _) = try IngestCommand.read(config: config)
                return "\(policy.grants.count) identities in the access file"
            }
            if !ok { throw ExitCode(78) }
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the service (the default).")

        @Option(name: .long, help: "The configuration file (JSON). Environment variables DUDAO_INGEST_* override its members.")
        var config: String = "deploy/ingest.json"

        func run() async throws {
            let logger = ServiceRuntime.makeLogger(label: "dudao-ingest", configPath: config)
            let (settings, access, tls) = ServiceRuntime.configuration(logger: logger) { try IngestCommand.read(config: config, logger: logger) }
            let policy = Reloadable(access)
            let registry = DudaoMetrics.bootstrap()
            let metrics = IngestMetrics()
            let store = try SQLiteIngestStore(path: settings.databasePath)
            let hub = LogHub(head: try store.head())
            let committer = try GroupCommitter(store: store, maxBatch: settings.maxBatch, logger: logger, metrics: metrics) { seq in
                hub.published(upTo: seq)
            }
            committer.start()
            let context = IngestContext(
                policy: policy, committer: committer, store: store, hub: hub, threadPool: NIOThreadPool.singleton,
                dedupeWindowMillis: settings.retention.dedupeWindowMillis, logger: logger, metrics: metrics)
            let server = try await FrameServer.start(
                configuration: settings.server, tls: tls, group: MultiThreadedEventLoopGroup.singleton,
                factory: IngestSessionFactory(context: context), logger: logger)
            // One line on stdout for scripts and tests: the port actually bound.
            ServiceRuntime.announce("dudao-ingest listening on \(settings.server.host):\(server.port)")

            let serving = ClosureService(
                body: { await server.waitUntilClosed() },
                onShutdown: {
                    await server.close()
                    committer.stop()
                    logger.info("stopped")
                })
            let retention = settings.retention
            let compaction = PeriodicService(every: settings.compactIntervalSeconds) {
                do {
                    let report = try store.compact(policy: retention, now: .now())
                    if report.supersededRemoved + report.eventsRemoved + report.dedupeRemoved > 0 {
                        logger.info(
                            "compacted",
                            metadata: [
                                "superseded": "\(report.supersededRemoved)", "events": "\(report.eventsRemoved)",
                                "dedupe": "\(report.dedupeRemoved)",
                            ])
                    }
                } catch {
                    logger.error("compaction failed", metadata: ["error": "\(error)"])
                }
            }
            let reload = ReloadService(
                steps: [.tls(tls, servers: [server], logger: logger), .accessFile(policy, path: settings.accessPath)], logger: logger)
            var services: [any Service] = [serving, compaction, reload]
            if let address = settings.metrics {
                services.append(
                    HealthEndpoint(
                        service: "dudao-ingest", settings: address, registry: registry, logger: logger,
                        collect: {
                            metrics.head.record(Double(hub.head))
                            // Every configured consumer, also one that never subscribed (its lag is the whole log).
                            let positions = (try? store.consumerPositions()) ?? [:]
                            for consumer in Set(retention.consumers).union(positions.keys) {
                                metrics.lag.record([consumer], Double(max(0, hub.head - (positions[consumer] ?? 0))))
                            }
                        }))
            }
            try await ServiceRuntime.run(services, logger: logger)
        }
    }
}
