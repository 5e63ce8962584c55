import DudaoService
import DudaoStorage
import DudaoWire
import NIOCore

/// `dudao-ingest`'s settings (deploy/ingest.json; environment overrides `DUDAO_INGEST_*`).
struct IngestConfig: FrameServiceSettings {
    static let service = "dudao-ingest"
    static let environmentPrefix = "DUDAO_INGEST_"

    var basics: FrameServiceBasics
    /// `database`: a SQLite file (the default) or a `postgres://` URL (several instances may share it).
    var store: StoreLocation
    var maxBatch: Int
    var retention: RetentionPolicy
    var compactIntervalSeconds: Int
    /// `delivery.hold_ms`, `delivery.urgent_types`, `delivery.quiet_ms`: how long record news may
    /// wait for subscribers while the writer is busy, the types that never wait, and how long
    /// after the writer was last busy it goes out (``LogHub``).
    var deliveryHold: DeliveryHold

    init(file: ConfigFile) throws(ConfigError) {
        basics = try FrameServiceBasics(file: file, defaultPort: 7401, defaultInFlight: 256)
        store = try file.store(default: "data/ingest.sqlite")
        maxBatch = try file.int("max_batch", default: 4096, range: 1...1_000_000)
        let dedupeDays = try file.double("dedupe_window_days", default: 7)
        let eventDays = try file.double("retention.event_days", default: 90)
        retention = RetentionPolicy(
            dedupeWindowMillis: Int64(dedupeDays * 86_400_000),
            eventRetentionMillis: Int64(eventDays * 86_400_000),
            consumers: try file.strings("consumers", default: ["dudao-indicators", "dudao-safety"]))
        compactIntervalSeconds = try file.int("retention.compact_interval_seconds", default: 60, range: 1...86_400)
        deliveryHold = DeliveryHold(
            limit: .milliseconds(try file.int("delivery.hold_ms", default: 2000, range: 0...60_000)),
            urgentTypes: try file.strings("delivery.urgent_types", default: ["safety.alarm"]),
            quiet: .milliseconds(try file.int("delivery.quiet_ms", default: 50, range: 1...60_000)),
            records: try file.int("delivery.hold_records", default: 131_072, range: 1...10_000_000))
        // Last: anything in the file or the environment not read above is a typo.
        try file.checkUnknownKeys()
    }
}
