import DudaoCore
import DudaoObservability
import DudaoWire

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
    /// How long news of new records waited for subscribers while the writer was busy (``LogHub``).
    let deliveryHeld = DurationHistogram("dudao_delivery_held_seconds")
    /// Records of the log a consumer has not yet committed.
    let lag = GaugeFamily("dudao_consumer_lag", dimensions: ["consumer"])

    /// Counts one batch's outcomes: one increment per (type, outcome), not per feed. Runs of
    /// the same pair (a batch is mostly one type, mostly one outcome) are counted without
    /// hashing each feed's labels.
    func count(types: some Sequence<String>, outcomes: [CommitOutcome]) {
        var acked: [[String]: Int] = [:]
        var failed: [[String]: Int] = [:]
        var run: (type: String, outcome: String, refused: Bool, count: Int)?
        func close() {
            guard let run else { return }
            if run.refused {
                failed[[run.type, run.outcome], default: 0] += run.count
            } else {
                acked[[run.type, run.outcome], default: 0] += run.count
            }
        }
        for (type, outcome) in zip(types, outcomes) {
            let (name, refused): (String, Bool) =
                switch outcome.answer {
                case .success(let status): (status.rawValue, false)
                case .failure(let error): (error.code.rawValue, true)
                }
            if let current = run, current.type == type, current.outcome == name, current.refused == refused {
                run?.count += 1
            } else {
                close()
                run = (type, name, refused, 1)
            }
        }
        close()
        for (labels, count) in acked { feeds.increment(labels, by: count) }
        for (labels, count) in failed { refused.increment(labels, by: count) }
    }
}
