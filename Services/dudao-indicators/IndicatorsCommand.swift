import ArgumentParser
import DudaoConsumer
import DudaoCore
import DudaoEvaluation
import DudaoObservability
import DudaoService
import DudaoStorage
import DudaoWire
import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `dudao-indicators`: evaluates every indicator of the plan live, answers queries, and sends
/// status transitions to `dudao-notify`.
@main
struct IndicatorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dudao-indicators",
        abstract: "Evaluate the plan's indicators live from the ingest log; answer indicators.* queries.",
        subcommands: [Serve.self, CheckConfig.self, Bench.self], defaultSubcommand: Serve.self)

    /// Everything a start reads before it opens the store: a mistake here is exit 78.
    /// `logger`, when given, gets the effective settings (secrets redacted) once they are valid.
    static func read(config: String, logger: Logger? = nil) throws -> (IndicatorsConfig, AccessPolicy, Catalog, TLSMaterial) {
        let file = try ConfigFile(path: config, environmentPrefix: "DUDAO_INDICATORS_")
        let settings = try IndicatorsConfig(file: file)
        logger?.info("configuration", metadata: ["file": "\(config)", "settings": "\(file.redactedDescription)"])
        return (
            settings, try AccessPolicy(path: settings.accessPath), try Catalog.load(path: settings.catalogPath),
            try TLSMaterial(files: settings.tls)
        )
    }

    struct CheckConfig: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config", abstract: "Validate the configuration, access file and catalog without starting.")

        @Option(name: .long, help: "The configuration file (JSON).")
        var config: String = "deploy/indicators.json"

        func run() throws {
            let ok = ConfigurationCheck.run(configPath: config) {
                let (_, policy, catalog, _) = try IndicatorsCommand.read(config: config)
                return "\(policy.grants.count) identities, \(catalog.indicators.count) indicators"
            }
            if !ok { throw ExitCode(78) }
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the service (default).")

        @Option(help: "The configuration file (JSON). Environment variables DUDAO_INDICATORS_* override its members.")
        var config: String = "deploy/indicators.json"

        func run() async throws {
            let logger = ServiceRuntime.makeLogger(label: "dudao-indicators", configPath: config)
            let (settings, access, catalog, tls) = ServiceRuntime.configuration(logger: logger) {
                try IndicatorsCommand.read(config: config, logger: logger)
            }
            let policy = Reloadable(access)
            let store = try IndicatorsStore(path: settings.databasePath)
            let model = try IndicatorsModel(catalog: catalog, store: store, currentYear: settings.currentYear, logger: logger)
            let server = try await FrameServer.start(
                configuration: settings.server, tls: tls, group: MultiThreadedEventLoopGroup.singleton,
                factory: IndicatorQueries.sessions(model: model, store: store, policy: policy), logger: logger)
            ServiceRuntime.announce("dudao-indicators listening on \(settings.server.host):\(server.port)")

            let consumer = LogConsumer(
                host: settings.ingest.host, port: settings.ingest.port, tls: tls, serverIdentity: settings.ingest.identity, logger: logger,
                position: { try store.position() },
                apply: { batch in try await model.apply(batch) })
            let sender = OutboxSender(
                pool: store.pool, host: settings.notify.host, port: settings.notify.port, tls: tls,
                serverIdentity: settings.notify.identity, logger: logger)
            let serving = ClosureService(
                body: { await server.waitUntilClosed() },
                onShutdown: { await server.close() })
            var services: [any Service] = [
                serving, TaskService { await consumer.run() }, TaskService { await sender.run() },
                ReloadService(
                    steps: [.tls(tls, servers: [server], logger: logger), .accessFile(policy, path: settings.accessPath)], logger: logger),
            ]
            if let address = settings.metrics {
                let figures = GaugeFamily("dudao_indicators", dimensions: ["figure"])
                services.append(
                    HealthEndpoint(
                        service: "dudao-indicators", settings: address, registry: DudaoMetrics.bootstrap(), logger: logger,
                    ready: { consumer.isFollowing },
                        collect: {
                            if let position = try? store.position() { figures.record(["position"], Double(position)) }
                            if let depth = try? store.pool.read({ db in try Outbox.count(db) }) { figures.record(["outbox_pending"], Double(depth)) }
                        }))
            }
            try await ServiceRuntime.run(services, logger: logger)
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time a full evaluation and incremental updates on a synthetic province (no service needed).")

        @Option(help: "Institutions in the synthetic province.")
        var institutions: Int = 50_000

        @Option(help: "Classes per institution.")
        var classes: Int = 4

        func run() throws {
            print(EvaluationBenchmark.run(institutions: institutions, classesPerInstitution: classes))
        }
    }
}
