import DudaoCore
import DudaoWire
import NIOCore

/// One query a peer asked, after its kind, type and access were checked.
public struct QueryRequest: Sendable {
    /// The client certificate's identity.
    public var identity: String
    public var type: String
    public var body: JSONObject
    /// The towns the access file restricts this identity to (`towns`); `nil`: the whole city.
    public var towns: Set<String>?

    /// An identity restricted to some towns may ask only about them: `body.scope` is
    /// `town:<id>` or `institution:<id>` of one of them (`townOf` says an institution's town),
    /// never the whole city (`city`, or no scope).
    public func checkTowns(townOf: (String) -> String?) -> WireError? {
        guard let towns else { return nil }
        let scope = body["scope"]?.stringValue ?? "city"
        let town: String?
        if scope.hasPrefix("town:") {
            town = String(scope.dropFirst(5))
        } else if scope.hasPrefix("institution:") {
            town = townOf(String(scope.dropFirst(12)))
        } else {
            town = nil
        }
        if let town, towns.contains(town) { return nil }
        return WireError(
            .forbidden,
            "identity \"\(identity)\" may ask only about \(towns.sorted().joined(separator: ", ")); send \"scope\": \"town:<id>\"",
            path: "body.scope")
    }
}

/// The connections of a service that answers queries only (`dudao-indicators`, `dudao-safety`):
/// a frame of another kind is `invalid_envelope` (feeds go to `dudao-ingest`), a type the service
/// does not know is `unknown_type`, a type the identity was not granted is `forbidden`, and so is
/// a type that is not answered for one scope (`scoped`) when the access file restricts the
/// identity to some towns; the rest is answered by `answer`, off the event loop (which checks
/// the scope with ``QueryRequest/checkTowns(townOf:)``). A `WireError` thrown by `answer` is the nack.
public struct QuerySessionFactory: FrameSessionFactory {
    public typealias Answer = @Sendable (QueryRequest) async throws -> JSONValue

    let service: String
    let types: [String]
    let scoped: Set<String>
    let policy: Reloadable<AccessPolicy>
    let answer: Answer

    /// - Parameters:
    ///   - service: the executable's name, for the error texts.
    ///   - types: the query types it answers.
    ///   - scoped: those answered for the `body.scope` they name (the only ones an identity
    ///     restricted to some towns may ask).
    public init(service: String, types: [String], scoped: Set<String>, policy: Reloadable<AccessPolicy>, answer: @escaping Answer) {
        self.service = service
        self.types = types
        self.scoped = scoped
        self.policy = policy
        self.answer = answer
    }

    public func makeSession(peer: PeerIdentity, channel: any Channel) -> any FrameSession {
        QuerySession(identity: peer.name, eventLoop: channel.eventLoop, factory: self, policy: policy.current)
    }

    /// Why a query of `type` is refused before `answer` runs, or nil.
    func refusal(type: String, identity: String, policy: AccessPolicy) -> WireError? {
        guard types.contains(type) else {
            return WireError(
                .unknownType, "\"\(type)\" is not a query of \(service); ask one of \(types.joined(separator: ", "))", path: "type")
        }
        if let error = policy.checkQuery(identity: identity, type: type) { return error }
        if let towns = policy.grant(for: identity)?.towns, !scoped.contains(type) {
            return WireError(
                .forbidden,
                "identity \"\(identity)\" may ask only about \(towns.sorted().joined(separator: ", ")); \(type) covers the whole city, ask one of \(scoped.sorted().joined(separator: ", ")) with \"scope\": \"town:<id>\"",
                path: "type")
        }
        return nil
    }
}

/// One connection to a query-only service.
final class QuerySession: FrameSession {
    private let identity: String
    private let eventLoop: any EventLoop
    private let factory: QuerySessionFactory
    /// The access file as it was when this connection was made.
    private let policy: AccessPolicy

    init(identity: String, eventLoop: any EventLoop, factory: QuerySessionFactory, policy: AccessPolicy) {
        self.identity = identity
        self.eventLoop = eventLoop
        self.factory = factory
        self.policy = policy
    }

    func handle(_ envelope: Envelope) -> EventLoopFuture<JSONValue?> {
        let id = envelope.id
        guard case .query(let type, let body) = envelope.request else {
            let error = WireError(
                .invalidEnvelope, "\(factory.service) answers queries only (kind \"query\"); send feeds to dudao-ingest", path: "kind")
            return eventLoop.makeSucceededFuture(Reply.nack(id: id, error: error))
        }
        if let error = factory.refusal(type: type, identity: identity, policy: policy) {
            return eventLoop.makeSucceededFuture(Reply.nack(id: id, error: error))
        }
        let request = QueryRequest(identity: identity, type: type, body: body, towns: policy.grant(for: identity)?.towns)
        let answer = factory.answer
        return eventLoop.makeFutureWithTask { () -> JSONValue? in
            do {
                return Reply.result(id: id, body: try await answer(request))
            } catch let error as WireError {
                return Reply.nack(id: id, error: error)
            }
        }
    }

    func connectionClosed() {}
}
