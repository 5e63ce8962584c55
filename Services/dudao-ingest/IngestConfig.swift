import DudaoService
import DudaoWire
import NIOCore

/// `dudao-ingest`'s settings (deploy/ingest.json; environment overrides `DUDAO_INGEST_*`).
struct IngestConfig: Sendable {
    var server: FrameServerConfiguration
    var tls: TLSFiles
    var databasePath: String
    var accessPath: String
    var maxBatch: Int
    var retention: RetentionPolicy
    var compactIntervalSeconds: Int

    init(file: ConfigFile) throws(ConfigError) {
        server = FrameServerConfiguration(
            host: try file.string("listen.host", default: "127.0.0.1"),
            port: try file.int("listen.port", default: 7401, range: 0...65535),
            maxFrameBytes: try file.int("max_frame_bytes", default: 1_048_576, range: 64...(64 * 1_048_576)),
            maxInFlight: try file.int("max_in_flight", default: 256, range: 1...100_000),
            idleTimeout: try file.timeout("idle_timeout_seconds", default: 300),
            frameTimeout: try file.timeout("frame_timeout_seconds", default: 30) ?? .seconds(30))
        tls = TLSFiles(
            caPath: try file.filePath("tls.ca"),
            certificatePath: try file.filePath("tls.certificate"),
            keyPath: try file.filePath("tls.key"))
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
    }
}
