import DudaoCore
import DudaoFeeds

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
        guard frame["kind"]?.stringValue == "record", let body = frame["body"], let seq = body["seq"]?.intValue,
            let typeText = frame["type"]?.stringValue, let type = FeedType(rawValue: typeText),
            let key = body["key"]?.stringValue, let record = body["record"]?.objectValue
        else { return nil }
        self.seq = seq
        self.type = type
        self.key = key
        self.sender = body["sender"]?.stringValue ?? ""
        self.feedID = body["feed_id"]?.stringValue ?? ""
        self.asOf = body["as_of"]?.stringValue.flatMap { Timestamp(rfc3339: $0) } ?? Timestamp(millis: 0)
        self.receivedAt = body["received_at"]?.stringValue.flatMap { Timestamp(rfc3339: $0) } ?? Timestamp(millis: 0)
        self.body = record
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
