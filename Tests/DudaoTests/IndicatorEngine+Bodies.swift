import DudaoCore
import DudaoEvaluation
import DudaoFeeds

extension IndicatorEngine {
    /// Test shorthand: decodes `body` as a consumer of the ingest log does and applies it. The
    /// fixtures only hold valid bodies, and `key` must be the one the validator derives: a
    /// fixture that breaks either stops the test run here.
    @discardableResult
    func apply(type: FeedType, key: String, body: JSONObject, receivedAt: Timestamp? = nil) -> Set<AffectedKey> {
        let feed: ValidatedFeed
        switch FeedValidator.validate(type, body: body) {
        case .success(let decoded): feed = decoded
        case .failure(let error): fatalError("a test fixture of \(type.rawValue) does not validate: \(error.message)")
        }
        precondition(feed.key == key, "a test fixture's key \(key) is not the validator's \(feed.key)")
        return apply(feed, receivedAt: receivedAt)
    }
}
