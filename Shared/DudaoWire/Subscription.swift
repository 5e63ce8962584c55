import DudaoCore

extension Frame {
    /// The body of a `subscribe` frame (SPEC section 2): follow the ingest log from `from`, with
    /// `credit` records allowed before the next `credit` frame, only the types matching `types`
    /// (patterns such as `safety.*`; empty = all), and a keepalive every `keepaliveSeconds` on a
    /// quiet log.
    public struct Subscription: Sendable, Equatable {
        public var from: Int64
        public var credit: Int64
        public var types: [String]
        public var keepaliveSeconds: Double?

        /// Credit when the body names none.
        public static let defaultCredit: Int64 = 1000

        public init(from: Int64, credit: Int64 = defaultCredit, types: [String] = [], keepaliveSeconds: Double? = nil) {
            self.from = from
            self.credit = credit
            self.types = types
            self.keepaliveSeconds = keepaliveSeconds
        }

        /// The body as sent.
        public var body: JSONObject {
            var body: JSONObject = ["from": .int(from), "credit": .int(credit)]
            if let keepaliveSeconds { body["keepalive_seconds"] = .double(keepaliveSeconds) }
            if !types.isEmpty { body["types"] = .array(types.map { .string($0) }) }
            return body
        }

        /// Reads a `subscribe` body; the error names the field.
        public static func decode(_ body: JSONObject) -> Result<Subscription, WireError> {
            guard let from = body["from"]?.intValue, from >= 1 else {
                return .failure(WireError(.invalidField, "body.from must be the first sequence number wanted (>= 1)", path: "body.from"))
            }
            let credit = body["credit"]?.intValue ?? defaultCredit
            guard credit >= 0 else { return .failure(WireError(.invalidField, "body.credit must be >= 0", path: "body.credit")) }
            var types: [String] = []
            if let list = body["types"] {
                guard let array = list.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                    return .failure(WireError(.invalidField, "body.types must be an array of type patterns", path: "body.types"))
                }
                types = array.compactMap(\.stringValue)
            }
            var keepalive: Double?
            if let seconds = body["keepalive_seconds"] {
                guard let value = seconds.doubleValue, value >= 0.1, value <= 3600 else {
                    return .failure(
                        WireError(.invalidField, "body.keepalive_seconds must be from 0.1 to 3600", path: "body.keepalive_seconds"))
                }
                keepalive = value
            }
            return .success(Subscription(from: from, credit: credit, types: types, keepaliveSeconds: keepalive))
        }
    }

    /// The body of a `credit` frame: `credit` more records may come; `committed`: the consumer
    /// has durably applied the records up to this sequence number. A value that is absent, not
    /// an integer or not positive says nothing.
    public struct CreditGrant: Sendable, Equatable {
        public var credit: Int64?
        public var committed: Int64?

        public init(credit: Int64?, committed: Int64? = nil) {
            self.credit = credit
            self.committed = committed
        }

        public static func decode(_ body: JSONObject) -> CreditGrant {
            CreditGrant(
                credit: body["credit"]?.intValue.flatMap { $0 > 0 ? $0 : nil },
                committed: body["committed"]?.intValue.flatMap { $0 > 0 ? $0 : nil })
        }
    }

    /// `{"v":1,"kind":"subscribe","id":…,"body":{"from":…,"credit":…,…}}`.
    public static func subscribe(id: String = "subscribe", _ subscription: Subscription) -> JSONValue {
        subscribe(id: id, body: .object(subscription.body))
    }
}
