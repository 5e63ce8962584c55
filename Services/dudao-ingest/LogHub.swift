import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Tells live subscriptions that the log has grown.
///
/// While the writer is busy (``GroupCommitter``: feeds queue behind its commits, or its batches
/// are large) the news can be held back, for at most ``DeliveryHold/limit``: subscribers on the
/// same host then leave the cores to the intake during a burst and catch up after it. A commit
/// that stored an urgent record (``DeliveryHold/urgentTypes``, alarms by default) tells them at
/// once, with everything before it; so does the first batch after the limit, and a timer at the
/// limit or once the writer has not been busy for ``DeliveryHold/quiet``, and once
/// ``DeliveryHold/records`` records are held. News of records another instance committed
/// (``HeadWatch``) is told at once.
final class LogHub: Sendable {
    private struct State {
        /// The last committed record.
        var head: Int64
        /// The head subscriptions were told (`head`, unless news is held back).
        var told: Int64
        /// When news was first held back (`nil`: none is).
        var heldSince: ContinuousClock.Instant?
        /// When a batch last ended busy.
        var lastBusy: ContinuousClock.Instant?
        /// Whether a check of held news is scheduled.
        var checking = false
        var listeners: [Int: @Sendable (Int64) -> Void] = [:]
        var nextToken = 0
    }

    private let state: NIOLockedValueBox<State>
    private let hold: DeliveryHold
    /// Where held news is looked at again when no batch comes.
    private let timers: any EventLoop
    /// Told how long news was held, each time held news goes out.
    private let heldFor: @Sendable (Duration) -> Void

    init(
        head: Int64, hold: DeliveryHold = .none, timers: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
        heldFor: @escaping @Sendable (Duration) -> Void = { _ in }
    ) {
        state = NIOLockedValueBox(State(head: head, told: head))
        self.hold = hold
        self.timers = timers
        self.heldFor = heldFor
    }

    /// The last committed record.
    var head: Int64 { state.withLockedValue { $0.head } }

    /// Whether any subscription listens (else the writer keeps no records for them).
    var hasListeners: Bool { state.withLockedValue { !$0.listeners.isEmpty } }

    /// Called after a durable commit (and by the writer after every batch, also one that stored
    /// nothing). `busy`: the writer is busy; `urgent`: the batch stored an urgent record.
    func published(upTo seq: Int64, busy: Bool = false, urgent: Bool = false) {
        update(busy: busy, urgent: urgent) { $0.head = max($0.head, seq) }
    }

    /// Tells the listeners unless news is to be held; schedules a look at held news.
    private func update(busy: Bool, urgent: Bool, _ change: (inout State) -> Void) {
        var check: Duration?
        var held: Duration?
        let (listeners, told) = state.withLockedValue { state -> ([@Sendable (Int64) -> Void], Int64) in
            // Read under the lock: instants stored in the state never lie ahead of it.
            let now = ContinuousClock.now
            change(&state)
            if busy { state.lastBusy = now }
            guard state.told < state.head else { return ([], 0) }
            if !urgent, hold.limit > .zero, !state.listeners.isEmpty, state.head - state.told < Int64(hold.records),
                let lastBusy = state.lastBusy, now - lastBusy < hold.quiet
            {
                let since = state.heldSince ?? now
                state.heldSince = since
                if now - since < hold.limit {
                    if !state.checking {
                        state.checking = true
                        check = min(hold.quiet - (now - lastBusy), hold.limit - (now - since))
                    }
                    return ([], 0)
                }
            }
            held = state.heldSince.map { now - $0 }
            state.heldSince = nil
            state.told = state.head
            return (Array(state.listeners.values), state.head)
        }
        for listener in listeners { listener(told) }
        if let held { heldFor(held) }
        if let check {
            timers.scheduleTask(in: TimeAmount(check)) { [self] in
                update(busy: false, urgent: false) { $0.checking = false }
            }.futureResult.whenFailure { [self] _ in
                // The timers' loop is shutting down (only in tests: the default is the singleton):
                // tell what is held rather than keep it.
                update(busy: false, urgent: true) { $0.checking = false }
            }
        }
    }

    /// Registers `listener`; returns a token for `remove` and the head subscriptions were told.
    func add(_ listener: @escaping @Sendable (Int64) -> Void) -> (token: Int, head: Int64) {
        state.withLockedValue { state in
            let token = state.nextToken
            state.nextToken += 1
            state.listeners[token] = listener
            return (token, state.told)
        }
    }

    func remove(_ token: Int) {
        _ = state.withLockedValue { $0.listeners.removeValue(forKey: token) }
    }
}
