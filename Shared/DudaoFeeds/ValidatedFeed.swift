import DudaoCore

/// A feed body that passed ``FeedValidator/validate(type:body:)``, with what the ingest needs
/// to store and route it.
public struct ValidatedFeed: Sendable {
    /// The feed type.
    public var type: FeedType
    /// Canonical upsert key: the key fields of SPEC section 3 joined with "|" in the table's
    /// order, e.g. "dongcheng|2025" for population.cohort, "2025" for year-keyed feeds,
    /// "dev-1|<at as Timestamp.millis>" for safety.alarm.
    public var key: String
    /// `as_of` from the body (or `at` for safety.heartbeat / safety.alarm); nil = the receiver
    /// uses the time of receipt.
    public var asOf: Timestamp?
    /// The body as received.
    public var body: JSONObject
    /// What must already be registered for the feed to be accepted.
    public var references: [FeedReference]
    /// For access control by town: the town the record belongs to when the body names it
    /// directly (registry.town, registry.institution, population.cohort), else nil.
    public var townID: String?
    /// The institution the record belongs to (census, inventory, heartbeat, alarm,
    /// registry.institution), else nil.
    public var institutionID: String?

    /// Makes a validated feed; normally only ``FeedValidator`` does this.
    public init(
        type: FeedType, key: String, asOf: Timestamp?, body: JSONObject, references: [FeedReference] = [],
        townID: String? = nil, institutionID: String? = nil
    ) {
        self.type = type
        self.key = key
        self.asOf = asOf
        self.body = body
        self.references = references
        self.townID = townID
        self.institutionID = institutionID
    }
}
