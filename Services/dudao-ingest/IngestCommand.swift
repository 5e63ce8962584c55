import ArgumentParser
import DudaoCore
import DudaoObservability
import DudaoService
import DudaoStorage
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

    struct CheckConfig: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config", abstract: "Validate the configuration and the files it names without starting.")

        @Option(name: .long, help: "The configuration file (JSON).")
        var config: String = "deploy/ingest.json"

        func run() throws {
            let ok = ConfigurationCheck.run(configPath: config) {
                let files = try ServiceFiles<IngestConfig>(config: config)
                return "\(files.access.grants.count) identities in the access file"
            }
            if !ok { throw ExitCode(78) }
        }
    }

    struct Serve: ServiceCommand {
        static let configuration = CommandConfiguration(abstract: "Run the service (the default).")

        @Option(name: .long, help: "The configuration file (JSON). Environment variables DUDAO_INGEST_* override its members.")
        var config: String = "deploy/ingest.json"

        func serve() async throws {
            let start = try ServiceBootstrap<IngestConfig>(config: config)
            let (settings, logger) = (start.settings, start.logger)
            let metrics = IngestMetrics()
            let store: any IngestStore
            var watchers: [any Service] = []
            var sqlite: SQLiteIngestStore?
            switch settings.store {
            case .sqlite(let path):
                let opened = try SQLiteIngestStore(path: path, dedupeWindowMillis: settings.retention.dedupeWindowMillis)
                sqlite = opened
                store = opened
            case .postgres(let location):
                store = try PostgresIngestStore(location: location, logger: logger)
                logger.info("storing on PostgreSQL", metadata: ["database": "\(location)"])
            }
            let hub = LogHub(head: try store.head(), hold: settings.deliveryHold, heldFor: metrics.deliveryHeld.record)
            let recent = RecentRecords()
            let urgent = UrgentTypes(settings.deliveryHold.urgentTypes)
            let committer = try GroupCommitter(store: store, maxBatch: settings.maxBatch, logger: logger, metrics: metrics) {
                highest, stored, busy in
                if hub.hasListeners { recent.append(stored) }
                hub.published(upTo: highest, busy: busy, urgent: urgent.any(in: stored))
            }
            committer.start()
            if case .postgres = settings.store {
                // Other instances' commits, for this instance's subscribers.
                watchers.append(HeadWatch(store: store, hub: hub, interval: .milliseconds(50), logger: logger))
            }
            let context = IngestContext(
                policy: start.policy, committer: committer, store: store, hub: hub, recent: recent, threadPool: NIOThreadPool.singleton,
                dedupeWindowMillis: settings.retention.dedupeWindowMillis,
                fastAdmission: sqlite.map { sqlite in
                    FastAdmission(versions: sqlite.versions, seen: sqlite.seen, registry: { committer.registry })
                },
                logger: logger, metrics: metrics)
            let server = try await start.listen(IngestSessionFactory(context: context))
            let retention = settings.retention
            let compaction = CompactionLoop(
                store: store, retention: retention, intervalSeconds: settings.compactIntervalSeconds, logger: logger)
            // Stopped last to first: compaction, then the server (every feed it read is
            // answered), then the committer (everything queued is durable).
            try await start.run(
                [committer, server, compaction] + watchers, servers: [server],
                collect: {
                    metrics.head.record(Double(hub.head))
                    // Every configured consumer, also one that never subscribed (its lag is the whole log).
                    let positions = (try? store.consumerPositions()) ?? [:]
                    for consumer in Set(retention.consumers).union(positions.keys) {
                        metrics.lag.record([consumer], Double(max(0, hub.head - (positions[consumer] ?? 0))))
                    }
                })
            // Every feed is answered and the writer has stopped: no (sender, id) pair is left in
            // the log only (PendingPairs), so an earlier build reads a complete dedupe table.
            if let sqlite {
                let pending = sqlite.pending.count
                try sqlite.copyPendingPairs()
                logger.info("pending (sender, id) pairs copied", metadata: ["pairs": "\(pending)"])
            }
        }
    }
}
