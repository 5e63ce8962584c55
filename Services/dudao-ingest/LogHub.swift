import NIOConcurrencyHelpers

/// Tells live subscriptions that the log has grown.
final class LogHub: Sendable {
    private struct State {
        var head: Int64
        var listeners: [Int: @Sendable (Int64) -> Void] = [:]
        var nextToken = 0
    }

    private let state: NIOLockedValueBox<State>

    init(head: Int64) { state = NIOLockedValueBox(State(head: head)) }

    var head: Int64 { state.withLockedValue { $0.head } }

    /// Whether any subscription listens (else the writer builds no record frames).
    var hasListeners: Bool { state.withLockedValue { !$0.listeners.isEmpty } }

    /// Called by the writer after a durable commit.
    func published(upTo seq: Int64) {
        let listeners = state.withLockedValue { state -> [@Sendable (Int64) -> Void] in
            state.head = max(state.head, seq)
            return Array(state.listeners.values)
        }
        for listener in listeners { listener(seq) }
    }

    /// Registers `listener`; returns a token for `remove` and the current head.
    func add(_ listener: @escaping @Sendable (Int64) -> Void) -> (token: Int, head: Int64) {
        state.withLockedValue { state in
            let token = state.nextToken
            state.nextToken += 1
            state.listeners[token] = listener
            return (token, state.head)
        }
    }

    func remove(_ token: Int) {
        _ = state.withLockedValue { $0.listeners.removeValue(forKey: token) }
    }
}
