import DudaoCore
import DudaoService
import DudaoWire
import DudaoStorage
import Logging
import NIOCore

/// What every notify connection shares.
struct NotifyContext: Sendable {
    /// The access file; a reload replaces it for connections made after it.
    var policy: Reloadable<AccessPolicy>
    var writer: NotifyWriter
    var engine: AlertEngine
    var database: any SQLDatabase
    var clock: any DudaoClock
    var logger: Logger
}

struct NotifySessionFactory: FrameSessionFactory {
    let context: NotifyContext

    func makeSession(peer: PeerIdentity, channel: any Channel) -> any FrameSession {
        NotifySession(peer: peer, channel: channel, context: context)
    }
}

/// One connection to `dudao-notify`: events from the services, queries from operators.
final class NotifySession: FrameSession {
    private let peer: PeerIdentity
    private let channel: any Channel
    private let context: NotifyContext
    /// The access file as it was when this connection was made.
    private let policy: AccessPolicy

    /// Queries that only read.
    static let readQueries: Set<String> = ["alerts.list", "alerts.failed", "silences.list", "notify.status"]
    /// Queries that change state (run through the writer).
    static let writeQueries: Set<String> = ["alerts.ack", "alerts.redrive", "silences.add", "silences.expire"]

    init(peer: PeerIdentity, channel: any Channel, context: NotifyContext) {
        self.peer = peer
        self.channel = channel
        self.context = context
        self.policy = context.policy.current
    }

    func handle(_ envelope: Envelope) -> EventLoopFuture<JSONValue?> {
        switch envelope.request {
        case .event(let type, let body): return handleEvent(envelope.id, type: type, body: body)
        case .query(let type, let body): return handleQuery(envelope.id, type: type, body: body)
        case .feed, .subscribe, .credit, .other:
            return nack(
                envelope.id,
                WireError(.invalidEnvelope, "kind \"\(envelope.kind.rawValue)\" is not accepted here; send event or query", path: "kind"))
        }
    }

    func connectionClosed() {}

    private func nack(_ id: String, _ error: WireError) -> EventLoopFuture<JSONValue?> {
        channel.eventLoop.makeSucceededFuture(Reply.nack(id: id, error: error))
    }

    /// Completes `promise` with the writer's result; a stopped writer answers `overloaded`.
    private static func complete(_ promise: EventLoopPromise<JSONValue?>, id: String) -> NotifyWriter.Completion {
        { result in
            switch result {
            case .success(let reply): promise.succeed(reply)
            case .failure(let error as NotifyWriterError):
                promise.succeed(Reply.nack(id: id, error: WireError(.overloaded, "\(error); retry later")))
            case .failure(let error): promise.fail(error)
            }
        }
    }

    // MARK: events

    private func handleEvent(_ id: String, type: String?, body: JSONObject?) -> EventLoopFuture<JSONValue?> {
        guard let type else {
            return nack(
                id, WireError(.invalidEnvelope, "an event needs a \"type\" (safety.alarm, indicator.not_met, ...)", path: "type"))
        }
        guard let body else {
            return nack(id, WireError(.invalidEnvelope, "an event needs a \"body\" object", path: "body"))
        }
        if let error = policy.checkEvent(identity: peer.name, type: type) { return nack(id, error) }
        let event: AlertEvent
        switch AlertEvent.parse(id: id, type: type, body: body) {
        case .success(let parsed): event = parsed
        case .failure(let error): return nack(id, error)
        }
        if let error = Self.checkScope(event) { return nack(id, error) }
        let promise = channel.eventLoop.makePromise(of: JSONValue?.self)
        let engine = context.engine
        let sender = peer.name
        context.writer.submit(
            { db, now, effects in
                let outcome = try engine.apply(event, sender: sender, db: db, now: now, effects: &effects)
                return Reply.ack(id: id, status: outcome == .accepted ? .accepted : .duplicate)
            }, complete: Self.complete(promise, id: id))
        return promise.futureResult
    }

    /// `scope` is `city`, `town:<id>` or `institution:<id>` (SPEC section 4).
    static func checkScope(_ event: AlertEvent) -> WireError? {
        let scope = event.scope
        if scope == "city" { return nil }
        for prefix in ["town:", "institution:"] where scope.hasPrefix(prefix) && scope.count > prefix.count { return nil }
        return WireError(
            .invalidField, "body.scope must be city, town:<town_id> or institution:<institution_id>", path: "body.scope")
    }

    // MARK: queries

    private func handleQuery(_ id: String, type: String, body: JSONObject) -> EventLoopFuture<JSONValue?> {
        guard Self.readQueries.contains(type) || Self.writeQueries.contains(type) else {
            let known = (Self.readQueries.union(Self.writeQueries)).sorted().joined(separator: ", ")
            return nack(id, WireError(.unknownType, "\"\(type)\" is not a query of dudao-notify; ask \(known)", path: "type"))
        }
        if let error = policy.checkQuery(identity: peer.name, type: type) { return nack(id, error) }
        let engine = context.engine
        let identity = peer.name
        @Sendable func reply(_ result: AlertEngine.QueryResult) -> JSONValue {
            switch result {
            case .success(let value): Reply.result(id: id, body: value)
            case .failure(let error): Reply.nack(id: id, error: error)
            }
        }
        let promise = channel.eventLoop.makePromise(of: JSONValue?.self)
        if Self.readQueries.contains(type) {
            let database = context.database
            let now = context.clock.now()
            promise.completeWithTask {
                try await database.read { db -> JSONValue? in
                    switch type {
                    case "alerts.list": return reply(try engine.listAlerts(body, db: db))
                    case "alerts.failed": return reply(try engine.failed(body, db: db))
                    case "silences.list": return reply(try engine.listSilences(body, db: db, now: now))
                    default: return Reply.result(id: id, body: try engine.status(db: db, now: now))
                    }
                }
            }
        } else {
            context.writer.submit(
                { db, now, effects in
                    switch type {
                    case "alerts.ack": return reply(try engine.ack(body, identity: identity, db: db, now: now))
                    case "alerts.redrive": return reply(try engine.redrive(body, db: db, now: now, effects: &effects))
                    case "silences.add": return reply(try engine.addSilence(body, identity: identity, db: db, now: now))
                    default: return reply(try engine.expireSilence(body, db: db, now: now, effects: &effects))
                    }
                }, complete: Self.complete(promise, id: id))
        }
        return promise.futureResult
    }
}
