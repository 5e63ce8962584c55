import DudaoService
import DudaoStorage
import DudaoWire

/// `dudao-safety`'s settings (deploy/safety.json; environment overrides `DUDAO_SAFETY_*`).
struct SafetyConfig: FrameServiceSettings {
    static let service = "dudao-safety"
    static let environmentPrefix = "DUDAO_SAFETY_"

    var basics: FrameServiceBasics
    /// `database`: a SQLite file (the default) or a `postgres://` URL.
    var store: StoreLocation
    var ingest: Endpoint
    /// `ingest.failover`: more ingest instances on the same PostgreSQL database.
    var ingestFailover: [(host: String, port: Int)]
    var notify: Endpoint
    var engine: SafetySettings
    /// How often device timers and open alarms are looked at.
    var checkIntervalMillis: Int64
    /// How often `last_seen` of the devices heard from is written to SQLite.
    var lastSeenFlushMillis: Int64
    /// Most log records applied in one transaction.
    var consumerBatch: Int

    init(file: ConfigFile) throws(ConfigError) {
        basics = try FrameServiceBasics(file: file, defaultPort: 7403, defaultInFlight: 64)
        store = try file.store(default: "data/safety.sqlite")
        ingest = try file.endpoint("ingest", defaultPort: 7401)
        ingestFailover = try file.failover("ingest")
        notify = try file.endpoint("notify", defaultPort: 7404)
        func millis(_ name: String, default fallback: Double, scale: Double, minimum: Double) throws(ConfigError) -> Int64 {
            let value = try file.double(name, default: fallback)
            guard value >= minimum else { throw ConfigError("\(file.path): \(name) must be at least \(minimum), got \(value)") }
            return Int64(value * scale)
        }
        var engine = SafetySettings()
        engine.liveness.offlineAfterMillis = try millis("offline_after_seconds", default: 180, scale: 1000, minimum: 0.1)
        engine.liveness.holdDownMillis = try millis("hold_down_seconds", default: 60, scale: 1000, minimum: 0)
        engine.alarmOpenMillis = try millis("alarm_open_minutes", default: 30, scale: 60_000, minimum: 0)
        engine.alarmMaxAgeMillis = try millis("alarm_max_age_hours", default: 24, scale: 3_600_000, minimum: 0)
        engine.reconnectHoldMillis = try millis("reconnect_hold_seconds", default: 30, scale: 1000, minimum: 0)
        self.engine = engine
        checkIntervalMillis = try millis("check_interval_seconds", default: 5, scale: 1000, minimum: 0.01)
        lastSeenFlushMillis = try millis("last_seen_flush_seconds", default: 60, scale: 1000, minimum: 1)
        consumerBatch = try file.int("consumer_batch", default: 512, range: 1...100_000)
        // Last: anything in the file or the environment not read above is a typo.
        try file.checkUnknownKeys()
    }
}
