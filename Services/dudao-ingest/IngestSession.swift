import DudaoCore
import DudaoFeeds
import DudaoObservability
import DudaoService
import DudaoWire
import Logging
import NIOCore
import NIOPosix

/// What every ingest connection shares.
struct IngestContext: Sendable {
    /// The access file; a reload replaces it for connections made after it.
    var policy: Reloadable<AccessPolicy>
    var committer: GroupCommitter
    var store: any IngestStore
    var hub: LogHub
    /// The latest records' frames, shared by the subscriptions at the head of the log.
    var recent: RecentRecords
    var threadPool: NIOThreadPool
    var dedupeWindowMillis: Int64
    /// Stale feeds answered without the writer thread (SQLite store only).
    var fastAdmission: FastAdmission?
    var logger: Logger
    var metrics: IngestMetrics
}

struct IngestSessionFactory: FrameSessionFactory {
    let context: IngestContext

    func makeSession(peer: PeerIdentity, channel: any Channel) -> any FrameSession {
        IngestSession(peer: peer, channel: channel, context: context)
    }
}

/// One connection to `dudao-ingest`: feeds from integrators, status queries, and log
/// subscriptions from the downstream services.
final class IngestSession: FrameSession {
    private let peer: PeerIdentity
    private let channel: any Channel
    private let context: IngestContext
    /// The access file as it was when this connection was made.
    private let policy: AccessPolicy
    private let grant: AccessPolicy.Grant?
    private var subscription: LogSubscription?
    /// A subscribe is being checked against the store.
    private var subscribing = false
    private var closed = false
    /// The last position the consumer reported (``recordPosition(_:)``).
    private var latestPosition: Int64?
    /// When a position was last stored, and whether a later report waits for ``positionInterval`` to pass.
    private var positionStoredAt: NIODeadline?
    private var positionWaiting = false
    /// A position the consumer passed without being sent anything, stored at most once a second.
    private var passedPosition: Int64?
    /// The access file's answer for the last feed type this connection sent (a connection
    /// mostly sends one type; the answer cannot change: `policy` is this connection's).
    private var lastFeedCheck: (type: String, refusal: WireError?)?

    init(peer: PeerIdentity, channel: any Channel, context: IngestContext) {
        self.peer = peer
        self.channel = channel
        self.context = context
        self.policy = context.policy.current
        self.grant = policy.grant(for: peer.name)
    }

    func handle(_ envelope: Envelope) -> EventLoopFuture<JSONValue?> {
        switch envelope.request {
        case .feed(let type, let body): return handleFeed(envelope.id, type: type, body: body)
        case .query(let type, _): return handleQuery(envelope.id, type: type)
        case .subscribe(let body): return subscribe(envelope.id, body: body ?? [:])
        case .credit(let body): return reply(credit(envelope.id, body: body ?? [:]))
        case .event, .other:
            return nack(
                envelope.id,
                WireError(.invalidEnvelope, "kind \"\(envelope.kind.rawValue)\" is not accepted here; send feed or query", path: "kind"))
        }
    }

    /// Heartbeats in their plain form are read without the generic JSON tree (``HeartbeatFrame``),
    /// and their acks written without one.
    func handle(payload: ByteBuffer) -> (id: String, reply: EventLoopFuture<ByteBuffer?>)? {
        guard let frame = payload.withUnsafeReadableBytes({ HeartbeatFrame.read($0.bindMemory(to: UInt8.self)) }) else { return nil }
        let reply: EventLoopFuture<ByteBuffer?>
        switch admit(frame.id, type: FeedType.safetyHeartbeat.rawValue, validated: .success(frame.feed), body: frame.body) {
        case .answer(let value): reply = channel.eventLoop.makeSucceededFuture(ByteBuffer(json: value))
        case .stale: reply = channel.eventLoop.makeSucceededFuture(Reply.ackPayload(id: frame.id, status: .stale))
        case .commit(let request):
            let promise = channel.eventLoop.makePromise(of: ByteBuffer?.self)
            context.committer.submit(request, encoded: promise)
            reply = promise.futureResult
        }
        return (frame.id, reply)
    }

    var keepsConnectionOpen: Bool { subscription != nil }

    func connectionClosed() {
        closed = true
        if positionWaiting, let position = latestPosition {
            positionWaiting = false
            storePosition(position)
        }
        subscription?.close()
        subscription = nil
    }

    private func reply(_ value: JSONValue?) -> EventLoopFuture<JSONValue?> {
        channel.eventLoop.makeSucceededFuture(value)
    }

    private func nack(_ id: String, _ error: WireError) -> EventLoopFuture<JSONValue?> {
        reply(Reply.nack(id: id, error: error))
    }

    // MARK: feeds

    private func handleFeed(_ id: String, type: String, body: JSONObject) -> EventLoopFuture<JSONValue?> {
        guard let feedType = FeedType(rawValue: type) else {
            return nack(id, WireError(.unknownType, "\"\(type)\" is not a feed type; see SPEC section 3", zh: "字段 type：\"\(type)\" 不是数据类型；见 SPEC.md 第 3 节（deploy/docs/SPEC.md）", path: "type"))
        }
        switch admit(id, type: type, validated: FeedValidator.validate(feedType, body: body), body: nil) {
        case .answer(let value): return reply(value)
        case .stale: return reply(Reply.ack(id: id, status: .stale))
        case .commit(let request):
            let promise = channel.eventLoop.makePromise(of: JSONValue?.self)
            context.committer.submit(request, promise: promise)
            return promise.futureResult
        }
    }

    /// What becomes of a feed before the group commit.
    private enum Admission {
        /// Refused: the nack.
        case answer(JSONValue)
        /// Certainly stale (``FastAdmission``): acknowledged so without the writer.
        case stale
        /// For the group commit.
        case commit(CommitRequest)
    }

    /// Checks the sender may send `type`, then makes the validated feed's request for the group
    /// commit, unless it is certainly stale.
    /// - Parameter body: the body as stored, when already written out (else from the feed).
    private func admit(_ id: String, type: String, validated: Result<ValidatedFeed, WireError>, body: [UInt8]?) -> Admission {
        let refusal: WireError?
        if let last = lastFeedCheck, last.type == type {
            refusal = last.refusal
        } else {
            refusal = policy.checkFeed(identity: peer.name, type: type)
            lastFeedCheck = (type, refusal)
        }
        if let error = refusal {
            context.metrics.refused.increment([type, error.code.rawValue])
            return .answer(Reply.nack(id: id, error: error))
        }
        let feed: ValidatedFeed
        switch validated {
        case .success(let validated): feed = validated
        case .failure(let error):
            context.metrics.refused.increment([type, error.code.rawValue])
            return .answer(Reply.nack(id: id, error: error))
        }
        let receivedAt = Timestamp.now()
        let key = CurrentVersions.Key(type: type, key: feed.key)
        if let fast = context.fastAdmission,
            fast.isStale(
                sender: peer.name, id: id, feed: feed, key: key, asOfMillis: feed.asOf?.millis ?? receivedAt.millis, allowedTowns: grant?.towns)
        {
            context.metrics.count(types: CollectionOfOne(type), outcomes: [.stale])
            return .stale
        }
        return .commit(
            CommitRequest(
                sender: peer.name, feedID: id, feed: feed, allowedTowns: grant?.towns, receivedAt: receivedAt,
                dedupeWindowMillis: context.dedupeWindowMillis, body: body, currentKey: key))
    }

    // MARK: queries

    private func handleQuery(_ id: String, type: String) -> EventLoopFuture<JSONValue?> {
        guard type == "ingest.status" else {
            return nack(id, WireError(.unknownType, "\"\(type)\" is not a query of dudao-ingest; ask ingest.status", path: "type"))
        }
        if let error = policy.checkQuery(identity: peer.name, type: type) { return nack(id, error) }
        let store = context.store
        let hub = context.hub
        let registry = context.committer.registry
        return context.threadPool.runIfActive(eventLoop: channel.eventLoop) { () -> JSONValue? in
            let counts = try store.counts()
            let positions = try store.consumerPositions()
            var consumers = JSONObject()
            for (name, position) in positions.sorted(by: { $0.key < $1.key }) { consumers[name] = .int(position) }
            return Reply.result(
                id: id,
                body: [
                    "head": .int(hub.head), "log_records": .int(Int64(counts.log)), "keys": .int(Int64(counts.keys)),
                    "dedupe_entries": .int(Int64(counts.dedupe)), "consumers": .object(consumers),
                    "towns": .int(Int64(registry.towns.count)), "institutions": .int(Int64(registry.institutions.count)),
                ])
        }
    }

    // MARK: subscriptions

    private func subscribe(_ id: String, body: JSONObject) -> EventLoopFuture<JSONValue?> {
        guard grant?.subscribe == true else {
            return nack(id, WireError(.forbidden, "identity \"\(peer.name)\" may not subscribe to the log"))
        }
        guard subscription == nil, !subscribing else {
            return nack(id, WireError(.invalidEnvelope, "this connection is already subscribed", path: "kind"))
        }
        let wanted: Frame.Subscription
        switch Frame.Subscription.decode(body) {
        case .success(let decoded): wanted = decoded
        case .failure(let error): return nack(id, error)
        }
        subscribing = true
        let from = wanted.from
        let credit = wanted.credit
        let every = wanted.keepaliveSeconds.map { TimeAmount.milliseconds(Int64($0 * 1000)) }
        let patterns = wanted.types
        let store = context.store
        let head = context.hub.head
        let consumer = peer.name
        let logger = context.logger
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        return context.threadPool.runIfActive(eventLoop: channel.eventLoop) {
            try Self.checkPosition(from: from, consumer: consumer, head: head, store: store, logger: logger)
        }.map { refusal -> JSONValue? in
            let session = bound.value
            session.subscribing = false
            if let refusal { return Reply.nack(id: id, error: refusal) }
            if session.closed { return nil }
            return session.startSubscription(id: id, from: from, credit: credit, types: patterns, keepalive: every)
        }
    }

    /// `nil` when a consumer may read from `from`, else why not.
    ///
    /// A consumer can only have processed records this log sent it, so its position is never past
    /// the head, unless this log is older than what it has seen (the ingest's database restored
    /// from a backup): new records then get numbers it has already committed, and it would skip
    /// them without a word. Such a consumer is refused, and stays refused (the refusal is stored)
    /// even once the log has grown past its position, until it asks from a position this log had
    /// when it was first refused (it was rebuilt, or its database restored from the same moment).
    static func checkPosition(from: Int64, consumer: String, head: Int64, store: any IngestStore, logger: Logger) throws -> WireError? {
        let position = from - 1
        if let markedHead = try store.divergence(name: consumer) {
            guard position > markedHead else {
                try store.clearDivergence(name: consumer)
                logger.notice("a consumer refused as ahead of the log subscribes from within it again", metadata: ["consumer": "\(consumer)", "from": "\(from)"])
                return nil
            }
            return aheadOfLog(
                from: from,
                "this log ended at \(markedHead) when \(consumer) was first refused, and the records numbered since are not the ones it saw")
        }
        guard position > head else { return nil }
        // The hub's head may trail the database's by a moment: another instance on the same
        // PostgreSQL database committed records this one has not heard of yet.
        let head = max(head, try store.head())
        guard position > head else { return nil }
        try store.setDivergence(name: consumer, logHead: head, position: position, now: .now())
        logger.critical(
            "a consumer has processed records past the end of this log: refused until it is rebuilt (was the ingest database restored?)",
            metadata: ["consumer": "\(consumer)", "position": "\(position)", "head": "\(head)"])
        return aheadOfLog(from: from, "this log ends at \(head)")
    }

    /// The refusal of a consumer that has processed records this log does not have.
    private static func aheadOfLog(from: Int64, _ why: String) -> WireError {
        WireError(
            .invalidField,
            "body.from is \(from) but \(why): the consumer has processed records this ingest does not have (its database restored "
                + "from an older backup, or another ingest?); rebuild the consumer from 1, or restore its database from the same moment "
                + "(README: restoring from a backup)",
            path: "body.from")
    }

    private func startSubscription(id: String, from: Int64, credit: Int64, types: [String], keepalive: TimeAmount?) -> JSONValue {
        let subscription = LogSubscription(
            from: from, credit: Int(credit), types: types, store: context.store, hub: context.hub, recent: context.recent, channel: channel,
            threadPool: context.threadPool, logger: context.logger, keepalive: keepalive,
            passedFiltered: { [weak self] position in self?.consumerPassed(position) })
        self.subscription = subscription
        if from > 1 { recordPosition(from - 1) }
        // The reply goes out before the first record: records are written after this future completes.
        let result = Reply.result(id: id, body: ["from": .int(from), "head": .int(context.hub.head)])
        let bound = NIOLoopBound(subscription, eventLoop: channel.eventLoop)
        channel.eventLoop.execute { bound.value.start() }
        return result
    }

    private func credit(_ id: String, body: JSONObject) -> JSONValue? {
        guard let subscription else {
            return Reply.nack(id: id, error: WireError(.invalidEnvelope, "credit without a subscription", path: "kind"))
        }
        let grant = Frame.CreditGrant.decode(body)
        if let more = grant.credit { subscription.grant(Int(more)) }
        if let committed = grant.committed { recordPosition(subscription.consumerCommitted(committed)) }
        return nil
    }

    /// Stores, a second later (records its filter leaves out may come by the thousand), that
    /// the consumer has passed `position`; a report of the consumer's own since then wins.
    private func consumerPassed(_ position: Int64) {
        let scheduled = passedPosition != nil
        passedPosition = max(passedPosition ?? 0, position)
        guard !scheduled else { return }
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        channel.eventLoop.scheduleTask(in: .seconds(1)) {
            let session = bound.value
            guard let position = session.passedPosition else { return }
            session.passedPosition = nil
            if !session.closed, position > (session.latestPosition ?? 0) { session.recordPosition(position) }
        }
    }

    /// Stores the consumer's reported position: at once when none was stored for
    /// ``positionInterval``, else once that has passed (the latest report then). A consumer
    /// reports after every batch it commits, hundreds of times a second under load: each store
    /// is a transaction with an fsync on the writer the group commit uses. The stored position
    /// only holds compaction back, so one a moment old is safe: it keeps more of the log, never
    /// less; a closing connection stores its latest at once.
    private func recordPosition(_ position: Int64) {
        latestPosition = position
        guard !positionWaiting else { return }
        if let stored = positionStoredAt, NIODeadline.now() - stored < Self.positionInterval {
            positionWaiting = true
            let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
            channel.eventLoop.scheduleTask(deadline: stored + Self.positionInterval) {
                let session = bound.value
                guard session.positionWaiting, let latest = session.latestPosition else { return }
                session.positionWaiting = false
                session.storePosition(latest)
            }
            return
        }
        storePosition(position)
    }

    /// The longest a reported position waits to be stored.
    static let positionInterval = TimeAmount.milliseconds(500)

    /// Writes `position` to the store. A store that fails (the database restarting) is tried
    /// again a second later, unless a newer report has come or the connection is gone: a
    /// consumer at the head reports nothing more, and its position would stay behind for good.
    private func storePosition(_ position: Int64) {
        positionStoredAt = .now()
        let store = context.store
        let name = peer.name
        let logger = context.logger
        let bound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        context.threadPool.runIfActive(eventLoop: channel.eventLoop) {
            try store.setConsumerPosition(name: name, position: position, now: .now())
        }.whenFailure { error in
            logger.error("saving a consumer position failed; trying again in 1 s", metadata: ["consumer": "\(name)", "error": "\(error)"])
            bound.value.channel.eventLoop.scheduleTask(in: .seconds(1)) {
                let session = bound.value
                if !session.closed, session.latestPosition == position { session.recordPosition(position) }
            }
        }
    }
}
