import DudaoCore

/// A feed body that passed ``FeedValidator/validate(type:body:)``: the typed value and the
/// body as received (which the ingest stores and streams byte for byte).
public struct ValidatedFeed: Sendable {
    /// The decoded value.
    public var feed: Feed
    /// The body as received.
    public var body: JSONObject

    /// Pairs a decoded value with its body; normally only ``FeedValidator`` does this.
    public init(feed: Feed, body: JSONObject) {
        self.feed = feed
        self.body = body
    }

    /// The feed type.
    public var type: FeedType { feed.type }
    /// See ``Feed/key``.
    public var key: String { feed.key }
    /// See ``Feed/asOf``.
    public var asOf: Timestamp? { feed.asOf }
    /// See ``Feed/references``.
    public var references: [FeedReference] { feed.references }
    /// See ``Feed/townID``.
    public var townID: String? { feed.townID }
    /// See ``Feed/institutionID``.
    public var institutionID: String? { feed.institutionID }
}
