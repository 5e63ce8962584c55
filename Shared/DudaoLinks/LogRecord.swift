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
    /// The body as the ingest sent it (the compact JSON it stored), when the frame was read
    /// straight from its bytes; a consumer that stores the body stores these instead of writing
    /// `body` out again (``bodyText``).
    public var bodyJSON: [UInt8]?

    /// Reads a `record` frame; `nil` for anything else (or a type this build does not know).
    public init?(frame: JSONValue) {
        guard let record = Frame.Record(frame: frame) else { return nil }
        self.init(record: record, bodyJSON: nil)
    }

    /// A record read straight from its frame's bytes; `nil` for a type this build does not know.
    public init?(read: consuming Frame.Record.Read) {
        self.init(record: read.record, bodyJSON: read.bodyJSON)
    }

    private init?(record: consuming Frame.Record, bodyJSON: consuming [UInt8]?) {
        guard let type = FeedType(rawValue: record.type) else { return nil }
        self.bodyJSON = bodyJSON
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

    /// The body as JSON text: the bytes it came in, else written out.
    public var bodyText: String {
        if let bodyJSON { return String(decoding: bodyJSON, as: UTF8.self) }
        return JSONWriter.string(.object(body))
    }

    /// The body decoded by the validator the ingest accepted it with (``FeedValidator/decode(_:_:)``):
    /// what a consumer reads instead of the body's members. A body this build refuses (stored by
    /// an older, laxer build) throws the validator's error, for the caller to log and skip.
    public func decode() throws(WireError) -> Feed { try FeedValidator.decode(type, body) }
}
