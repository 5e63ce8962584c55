import DudaoCore
import DudaoFeeds
import DudaoService
import DudaoWire
import NIOCore
import NIOPosix

/// Makes a ``SafetySession`` per connection.
struct SafetySessionFactory: FrameSessionFactory {
    let engine: SafetyEngine
    let policy: AccessPolicy
    let threadPool: NIOThreadPool

    func makeSession(peer: PeerIdentity, channel: any Channel) -> any FrameSession {
        SafetySession(peer: peer, eventLoop: channel.eventLoop, factory: self)
    }
}

/// One connection to `dudao-safety`: queries only (feeds go to `dudao-ingest`). Queries run on
/// the thread pool, so a scan of a million devices never stalls an event loop.
final class SafetySession: FrameSession {
    private let peer: PeerIdentity
    private let eventLoop: any EventLoop
    private let factory: SafetySessionFactory

    init(peer: PeerIdentity, eventLoop: any EventLoop, factory: SafetySessionFactory) {
        self.peer = peer
        self.eventLoop = eventLoop
        self.factory = factory
    }

    func handle(_ envelope: Envelope) -> EventLoopFuture<JSONValue?> {
        let id = envelope.id
        guard envelope.kind == "query", let type = envelope.type else {
            let error = WireError(
                .invalidEnvelope, "dudao-safety answers queries only (kind \"query\"); send feeds to dudao-ingest", path: "kind")
            return eventLoop.makeSucceededFuture(Reply.nack(id: id, error: error))
        }
        guard SafetyQueries.types.contains(type) else {
            return eventLoop.makeSucceededFuture(Reply.nack(id: id, error: SafetyQueries.unknown(type)))
        }
        if let error = factory.policy.checkQuery(identity: peer.name, type: type) {
            return eventLoop.makeSucceededFuture(Reply.nack(id: id, error: error))
        }
        let engine = factory.engine
        let body = envelope.body ?? [:]
        let towns = factory.policy.grant(for: peer.name)?.towns
        let name = peer.name
        return factory.threadPool.runIfActive(eventLoop: eventLoop) { () -> JSONValue? in
            if let towns, let error = Self.checkTowns(towns, identity: name, body: body, engine: engine) {
                return Reply.nack(id: id, error: error)
            }
            switch SafetyQueries.answer(type: type, body: body, engine: engine) {
            case .success(let result): return Reply.result(id: id, body: result)
            case .failure(let error): return Reply.nack(id: id, error: error)
            }
        }
    }

    func connectionClosed() {}

    /// An identity restricted to some towns (access file `towns`) may ask only about them:
    /// `town:<id>` or an institution of one of them, never the whole city.
    static func checkTowns(_ towns: Set<String>, identity: String, body: JSONObject, engine: SafetyEngine) -> WireError? {
        let scope = body["scope"]?.stringValue ?? "city"
        let town: String?
        if scope.hasPrefix("town:") {
            town = String(scope.dropFirst(5))
        } else if scope.hasPrefix("institution:") {
            let institution = String(scope.dropFirst(12))
            town = engine.read { $0.registry.institutions[institution]?.townID }
        } else {
            town = nil
        }
        if let town, towns.contains(town) { return nil }
        return WireError(
            .forbidden, "identity \"\(identity)\" may ask only about \(towns.sorted().joined(separator: ", ")); send \"scope\": \"town:<id>\"",
            path: "body.scope")
    }
}
