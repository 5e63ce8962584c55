import DudaoCore
import DudaoFeeds
import DudaoWire

/// One feed on its way to durable storage, already validated and access-checked by type.
///
/// A class: a batch passes each request through several arrays on the writer thread, and a
/// copy of the struct it was cost a dozen reference-count operations (its strings, the feed,
/// the body), one here.
final class CommitRequest: Sendable {
    let sender: String
    let feedID: String
    let feed: ValidatedFeed
    /// Towns the sender is restricted to (`nil`: any).
    let allowedTowns: Set<String>?
    let receivedAt: Timestamp
    /// How long an accepted (sender, id) answers `duplicate`.
    let dedupeWindowMillis: Int64
    /// The body as it is stored and sent to subscribers: compact JSON (UTF-8), written out on
    /// the connection's event loop rather than on the one writer thread.
    let body: [UInt8]
    /// The record's type and key, hashed on the event loop.
    let currentKey: CurrentVersions.Key

    init(
        sender: String, feedID: String, feed: ValidatedFeed, allowedTowns: Set<String>?, receivedAt: Timestamp,
        dedupeWindowMillis: Int64, body: [UInt8]? = nil, currentKey: CurrentVersions.Key? = nil
    ) {
        self.sender = sender
        self.feedID = feedID
        self.feed = feed
        self.allowedTowns = allowedTowns
        self.receivedAt = receivedAt
        self.dedupeWindowMillis = dedupeWindowMillis
        self.body = body ?? JSONWriter.bytes(.object(feed.body))
        self.currentKey = currentKey ?? CurrentVersions.Key(type: feed.type.rawValue, key: feed.key)
    }

    /// The record's `as_of`: the feed's own, else when it was received.
    var asOfMillis: Int64 { feed.asOf?.millis ?? receivedAt.millis }
}

/// What became of a feed.
enum CommitOutcome: Sendable, Equatable {
    case accepted(seq: Int64)
    case duplicate
    case stale
    case rejected(WireError)

    /// What the feed is answered: an ack with this status, or a nack with this error.
    var answer: Result<AckStatus, WireError> {
        switch self {
        case .accepted: .success(.accepted)
        case .duplicate: .success(.duplicate)
        case .stale: .success(.stale)
        case .rejected(let error): .failure(error)
        }
    }
}

/// One record of the ingest log, as a subscriber receives it.
struct LogEntry: Sendable {
    var seq: Int64
    var sender: String
    var feedID: String
    var type: String
    var key: String
    var asOf: Int64
    var receivedAt: Int64
    /// The record's body, compact JSON as received.
    var body: String
}

/// How long and how much the log keeps (see `IngestStore.compact`).
struct RetentionPolicy: Sendable {
    /// How long a (sender, id) pair answers `duplicate`.
    var dedupeWindowMillis: Int64
    /// How long event records (alarms: every one is its own key) are kept once all consumers have them.
    var eventRetentionMillis: Int64
    /// Consumers whose position bounds compaction; a consumer not yet seen holds everything back.
    var consumers: [String]

    /// Feed types whose every record is its own key: kept for the retention period only.
    static let eventTypes: Set<String> = [FeedType.safetyAlarm.rawValue]

    /// The highest position every configured consumer has processed (all of the log when none
    /// is configured): compaction goes no further.
    func safePosition(_ positions: [String: Int64]) -> Int64 {
        consumers.isEmpty ? Int64.max : consumers.map { positions[$0] ?? 0 }.min() ?? 0
    }
}

struct CompactionReport: Sendable {
    var supersededRemoved = 0
    var eventsRemoved = 0
    var dedupeRemoved = 0
}

/// The ingest's storage: a durable, append-only log of accepted records with the current version
/// of each key and the dedupe table beside it.
///
/// SQLite (`SQLiteIngestStore`) is the embedded default; a PostgreSQL store implements the
/// same calls. Every call is synchronous and made from one writer thread or a reader pool.
protocol IngestStore: Sendable {
    /// The registered towns and institutions, rebuilt from the stored records.
    func loadRegistry() throws -> Registry

    /// Applies `batch` in order in one durable transaction (fsync'd before it returns). The
    /// registry is updated in place as registry feeds are accepted, and restored if the
    /// transaction fails.
    func commit(_ batch: [CommitRequest], registry: inout Registry, now: Timestamp) throws -> [CommitOutcome]

    /// Log entries with `seq > after`, oldest first.
    func readLog(after: Int64, limit: Int) throws -> [LogEntry]

    /// The highest sequence number stored (0 when empty).
    func head() throws -> Int64

    /// Records that consumer `name` has processed everything up to `position`.
    func setConsumerPosition(name: String, position: Int64, now: Timestamp) throws

    /// Consumer positions.
    func consumerPositions() throws -> [String: Int64]

    /// The log head when consumer `name` was refused for asking past it (see
    /// `IngestSession.checkPosition`), or `nil`.
    func divergence(name: String) throws -> Int64?

    /// Records that consumer `name` asked past the head (`logHead`); an earlier record is kept.
    func setDivergence(name: String, logHead: Int64, position: Int64, now: Timestamp) throws

    /// Forgets that record (the consumer was rebuilt).
    func clearDivergence(name: String) throws

    /// Drops what no one needs any more: superseded versions and old events every consumer has
    /// seen, and dedupe entries older than the window.
    func compact(policy: RetentionPolicy, now: Timestamp) throws -> CompactionReport

    /// Row counts for status queries.
    func counts() throws -> (log: Int, keys: Int, dedupe: Int)
}
