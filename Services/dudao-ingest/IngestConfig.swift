import DudaoService
import DudaoWire
import NIOCore

/// `dudao-ingest`'s settings (deploy/ingest.json; environment overrides `DUDAO_INGEST_*`).
struct IngestConfig: Sendable {
    var server: FrameServerConfiguration
    var tls: TLSFiles
    /// `metrics`: the HTTP port for /metrics, /health and /ready (none when absent).
    var metrics: HTTPAddress?
    var databasePath: String
    var accessPath: String
    var maxBatch: Int
    var retention: RetentionPolicy
    var compactIntervalSeconds: Int

    init(file: ConfigFile) throws(ConfigError) {
        server = try file.frameServer(defaultPort: 7401, defaultInFlight: 256)
        tls = try file.tlsFiles()
        metrics = try file.metricsAddress()
        databasePath = try file.filePath("database", default: "data/ingest.sqlite")
        accessPath = try file.filePath("access_file", default: "access.json")
        maxBatch = try file.int("max_batch", default: 4096, range: 1...1_000_000)
        let dedupeDays = try file.double("dedupe_window_days", default: 7)
        let eventDays = try file.double("retention.event_days", default: 90)
        retention = RetentionPolicy(
            dedupeWindowMillis: Int64(dedupeDays * 86_400_000),
            eventRetentionMillis: Int64(eventDays * 86_400_000),
            consumers: try file.strings("consumers", default: ["dudao-indicators", "dudao-safety"]))
        compactIntervalSeconds = try file.int("retention.compact_interval_seconds", default: 60, range: 1...86_400)
        // Last: anything in the file or the environment not read above is a typo.
        try file.checkUnknownKeys()
    }
}
