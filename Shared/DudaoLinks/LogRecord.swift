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
    /// The feed body; for a record whose feed was decoded straight from its bytes, read from
    /// ``bodyJSON`` each time it is asked for (nothing asks for a heartbeat's). A body set here
    /// is the one ``decode()`` decodes.
    public var body: JSONObject {
        get { storedBody ?? bodyJSON.flatMap { try? JSONParser.parse($0).objectValue } ?? JSONObject() }
        set {
            storedBody = newValue
            decoded = nil
        }
    }
    private var storedBody: JSONObject?
    /// The body as the ingest sent it (the compact JSON it stored), when the frame was read
    /// straight from its bytes; a consumer that stores the body stores these instead of writing
    /// `body` out again (``bodyText``).
    public var bodyJSON: [UInt8]?
    /// The heartbeat, when it was decoded straight from the frame's bytes
    /// (``HeartbeatRecordBody``); ``decode()`` gives it. A heartbeat, not a `Feed`: the largest
    /// feed would make every record as large, and records are copied about in batches.
    private(set) var decoded: Heartbeat?

    /// Reads a `record` frame; `nil` for anything else (or a type this build does not know).
    public init?(frame: JSONValue) {
        guard let record = Frame.Record(frame: frame) else { return nil }
        self.init(record: record, bodyJSON: nil)
    }

    /// A record read straight from its frame's bytes; `nil` for a type this build does not know.
    /// A heartbeat is decoded from the bytes without building its body's members.
    public init?(read: consuming Frame.Record.Read) {
        if read.envelope.type == FeedType.safetyHeartbeat.rawValue, let heartbeat = HeartbeatRecordBody.decode(read) {
            self.init(record: read.envelope, bodyJSON: read.bodyJSON, storedBody: nil)
            decoded = heartbeat
        } else {
            self.init(record: read.record, bodyJSON: read.bodyJSON)
        }
    }

    private init?(record: consuming Frame.Record, bodyJSON: consuming [UInt8]?) {
        let body = record.body
        self.init(record: record, bodyJSON: bodyJSON, storedBody: body)
    }

    private init?(record: consuming Frame.Record, bodyJSON: consuming [UInt8]?, storedBody: JSONObject?) {
        guard let type = FeedType(rawValue: record.type) else { return nil }
        self.bodyJSON = bodyJSON
        self.seq = record.seq
        self.type = type
        self.key = record.key
        self.sender = record.sender
        self.feedID = record.feedID
        self.asOf = record.asOf
        self.receivedAt = record.receivedAt
        self.storedBody = storedBody
    }

    public init(seq: Int64, type: FeedType, key: String, body: JSONObject, asOf: Timestamp, sender: String = "", feedID: String = "") {
        self.seq = seq
        self.type = type
        self.key = key
        self.storedBody = body
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
    public func decode() throws(WireError) -> Feed {
        if let decoded { return .safetyHeartbeat(decoded) }
        return try FeedValidator.decode(type, body)
    }

    /// ``decode()`` with the body beside it, as the validator gives them (``FeedValidator/validate(_:body:)``).
    /// A heartbeat decoded straight from its bytes comes without its body's members: nothing
    /// reads a heartbeat's body but its decoder.
    public func validated() -> Result<ValidatedFeed, WireError> {
        if let decoded { return .success(ValidatedFeed(feed: .safetyHeartbeat(decoded), body: JSONObject())) }
        return FeedValidator.validate(type, body: body)
    }
}
