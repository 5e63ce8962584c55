import ArgumentParser
import DudaoLinks
import DudaoCore
import DudaoEvaluation
import DudaoObservability
import DudaoService
import DudaoStorage
import DudaoWire
import Foundation
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
        subcommands: [Serve.self, CheckConfig.self], defaultSubcommand: Serve.self)

    /// The service's own files: the catalogs and the reporting schedule.
    static func catalogsAndSchedule(_ settings: IndicatorsConfig) throws -> (Catalog, ReportingSchedule) {
        (try Catalog.load(paths: settings.catalogPaths), try settings.reportingPath.map { path throws in try ReportingSchedule.load(path: path) } ?? .none)
    }

    struct CheckConfig: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config", abstract: "Validate the configuration, access file and catalog without starting.")

        @Option(name: .long, help: "The configuration file (JSON).")
        var config: String = "deploy/indicators.json"

        func run() throws {
            let ok = ConfigurationCheck.run(configPath: config) {
                let (files, (catalog, schedule)) = try ServiceFiles<IndicatorsConfig>.read(config: config, extra: IndicatorsCommand.catalogsAndSchedule)
                return "\(files.access.grants.count) identities, \(catalog.indicators.count) indicators in \(catalog.names.joined(separator: ", ")), "
                    + "\(schedule.feeds.count) reports owed"
            }
            if !ok { throw ExitCode(78) }
        }
    }

    struct Serve: ServiceCommand {
        static let configuration = CommandConfiguration(abstract: "Run the service (default).")

        @Option(help: "The configuration file (JSON). Environment variables DUDAO_INDICATORS_* override its members.")
        var config: String = "deploy/indicators.json"

        func serve() async throws {
            let (start, (catalog, schedule)) = try ServiceBootstrap<IndicatorsConfig>.start(config: config, reading: IndicatorsCommand.catalogsAndSchedule)
            let (settings, logger, tls) = (start.settings, start.logger, start.tls)
            let store = try IndicatorsStore(location: settings.store, logger: logger, exclusive: true)
            let model = try IndicatorsModel(
                catalog: catalog, schedule: schedule, store: store, currentYear: settings.currentYear, logger: logger)
            let server = try await start.listen(IndicatorQueries.sessions(model: model, store: store, policy: start.policy))
            let consumer = LogConsumer(
                host: settings.ingest.host, port: settings.ingest.port, failover: settings.ingestFailover, tls: tls, serverIdentity: settings.ingest.identity, logger: logger,
                position: { try store.position() },
                apply: { batch in try await model.apply(batch) })
            let sender = OutboxSender(
                database: store.database, host: settings.notify.host, port: settings.notify.port, tls: tls,
                serverIdentity: settings.notify.identity, logger: logger)
            let reminders = ReportingLoop(model: model, interval: .milliseconds(Int64(settings.reportingCheckSeconds * 1000)), logger: logger)
            let figures = GaugeFamily("dudao_indicators", dimensions: ["figure"])
            try await start.run(
                [server, consumer, sender, reminders], servers: [server],
                ready: { consumer.isFollowing },
                collect: {
                    if let position = try? store.position() { figures.record(["position"], Double(position)) }
                    if let depth = try? store.database.read({ db in try Outbox.count(db) }) { figures.record(["outbox_pending"], Double(depth)) }
                })
        }
    }
}
