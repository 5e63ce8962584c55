import DudaoService
import DudaoStorage
import DudaoWire

/// How failed deliveries are retried.
struct RetryPolicy: Sendable, Equatable {
    /// Attempts before a delivery moves to the dead-letter list.
    var maxAttempts = 10
    /// The first retry waits this long; each further one twice as long, up to `maxSeconds`.
    var initialSeconds = 2.0
    var maxSeconds = 600.0
    /// ± this fraction of randomness on each wait, so failed receivers are not hit in lockstep.
    var jitter = 0.2

    /// The wait before attempt `attempts + 1`, after `attempts` failures.
    func delay(afterAttempts attempts: Int, random: Double = Double.random(in: -1...1)) -> Double {
        let base = min(maxSeconds, initialSeconds * pow2(max(0, attempts - 1)))
        return max(0, base * (1 + jitter * random))
    }

    private func pow2(_ n: Int) -> Double {
        var value = 1.0
        for _ in 0..<min(n, 60) { value *= 2 }
        return value
    }
}

/// `dudao-notify`'s settings (deploy/notify.json; environment overrides `DUDAO_NOTIFY_*`).
struct NotifyConfig: FrameServiceSettings {
    static let service = "dudao-notify"
    static let environmentPrefix = "DUDAO_NOTIFY_"

    var basics: FrameServiceBasics
    /// `database`: a SQLite file (the default) or a `postgres://` URL.
    var store: StoreLocation
    var routesPath: String
    var maxBatch: Int
    var dedupeWindowMillis: Int64
    /// How long resolved alerts and finished deliveries are kept.
    var historyMillis: Int64
    /// How often the timers (group wait, repeat, escalation, silence expiry) are looked at.
    var tickSeconds: Double
    /// Deliveries in flight at once.
    var concurrency: Int
    var retry: RetryPolicy
    /// Times in messages are shown in this offset from UTC (480: China Standard Time).
    var displayOffsetMinutes: Int

    init(file: ConfigFile) throws(ConfigError) {
        basics = try FrameServiceBasics(file: file, defaultPort: 7404, defaultInFlight: 256)
        store = try file.store(default: "data/notify.sqlite")
        routesPath = try file.filePath("routes_file", default: "routes.json")
        maxBatch = try file.int("max_batch", default: 4096, range: 1...1_000_000)
        dedupeWindowMillis = Int64(try file.double("dedupe_window_days", default: 7) * 86_400_000)
        historyMillis = Int64(try file.double("history_days", default: 90) * 86_400_000)
        tickSeconds = try file.double("tick_seconds", default: 0.5)
        guard tickSeconds > 0, tickSeconds <= 60 else { throw ConfigError("\(file.path): tick_seconds must be > 0 and <= 60") }
        concurrency = try file.int("delivery.concurrency", default: 32, range: 1...4096)
        retry = RetryPolicy(
            maxAttempts: try file.int("delivery.max_attempts", default: 10, range: 1...1000),
            initialSeconds: try file.double("delivery.backoff_initial_seconds", default: 2),
            maxSeconds: try file.double("delivery.backoff_max_seconds", default: 600),
            jitter: try file.double("delivery.jitter", default: 0.2))
        guard retry.initialSeconds > 0, retry.maxSeconds >= retry.initialSeconds, (0...1).contains(retry.jitter) else {
            throw ConfigError(
                "\(file.path): delivery.backoff_initial_seconds must be > 0, backoff_max_seconds >= it, jitter from 0 to 1")
        }
        displayOffsetMinutes = try file.int("display_utc_offset_minutes", default: 480, range: -900...900)
        // Last: anything in the file or the environment not read above is a typo.
        try file.checkUnknownKeys()
    }
}
