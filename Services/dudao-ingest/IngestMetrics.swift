import DudaoCore
import DudaoObservability

/// What dudao-ingest counts for `/metrics`.
struct IngestMetrics: Sendable {
    /// Acknowledged feeds by type and outcome (accepted, duplicate, stale).
    let feeds = CounterFamily("dudao_feeds_total", dimensions: ["type", "outcome"])
    /// Refused feeds by type and error code.
    let refused = CounterFamily("dudao_feeds_refused_total", dimensions: ["type", "code"])
    /// Feeds per group commit.
    let batchSize = ValueHistogram("dudao_group_commit_batch_size")
    /// One group commit, its fsync included.
    let commitTime = DurationHistogram("dudao_group_commit_seconds")
    let head = GaugeFamily("dudao_log_head")
    /// Records of the log a consumer has not yet committed.
    let lag = GaugeFamily("dudao_consumer_lag", dimensions: ["consumer"])

    /// Counts one batch's outcomes: one increment per (type, outcome), not per feed.
    func count(types: some Sequence<String>, outcomes: [CommitOutcome]) {
        var acked: [[String]: Int] = [:]
        var failed: [[String]: Int] = [:]
        for (type, outcome) in zip(types, outcomes) {
            switch outcome {
            case .accepted: acked[[type, "accepted"], default: 0] += 1
            case .duplicate: acked[[type, "duplicate"], default: 0] += 1
            case .stale: acked[[type, "stale"], default: 0] += 1
            case .rejected(let error): failed[[type, error.code.rawValue], default: 0] += 1
            }
        }
        for (labels, count) in acked { feeds.increment(labels, by: count) }
        for (labels, count) in failed { refused.increment(labels, by: count) }
    }
}
