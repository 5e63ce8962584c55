import DudaoCore
import DudaoFeeds
import DudaoWire

/// One record of the ingest log as a downstream service receives it.
public struct LogRecord: Sendable {
    public var seq: Int64
    public var type: FeedType
    public var key: String
    public var sender: String
    public var feedID: String
    public var asOf: Timestamp
    public var receivedAt: Timestamp
    public var body: JSONObject

    /// Reads a `record` frame; `nil` for anything else (or a type this build does not know).
    public init?(frame: JSONValue) {
        guard let record = Frame.Record(frame: frame), let type = FeedType(rawValue: record.type) else { return nil }
        self.seq = record.seq
        self.type = type
        self.key = record.key
        self.sender = record.sender
        self.feedID = record.feedID
        self.asOf = record.asOf
        self.receivedAt = record.receivedAt
        self.body = record.body
    }

    public init(seq: Int64, type: FeedType, key: String, body: JSONObject, asOf: Timestamp, sender: String = "", feedID: String = "") {
        self.seq = seq
        self.type = type
        self.key = key
        self.body = body
        self.asOf = asOf
        self.receivedAt = asOf
        self.sender = sender
        self.feedID = feedID
    }

    /// The body decoded by the validator the ingest accepted it with (``FeedValidator/decode(_:_:)``):
    /// what a consumer reads instead of the body's members. A body this build refuses (stored by
    /// an older, laxer build) throws the validator's error, for the caller to log and skip.
    public func decode() throws(WireError) -> Feed { try FeedValidator.decode(type, body) }
}
