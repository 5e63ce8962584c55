import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Wakes one waiting task: rung when there may be work, waited on with a timeout.
/// A ring while nobody waits is remembered, so no wake-up is lost.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var generation = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())
    private let loop = MultiThreadedEventLoopGroup.singleton.next()

    public init() {}

    public func ring() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when rung (or already rung since the last wait), or after `timeout`.
    public func wait(timeout: TimeAmount) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation = state.withLockedValue { state -> Int? in
                if state.rung {
                    state.rung = false
                    return nil
                }
                state.generation += 1
                state.waiter = continuation
                return state.generation
            }
            guard let generation else {
                continuation.resume()
                return
            }
            loop.scheduleTask(in: timeout) { [self] in self.expire(generation) }
        }
    }

    private func expire(_ generation: Int) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard state.generation == generation, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}
