import NIOConcurrencyHelpers
import NIOCore

/// How many frames a ``WireClient`` has received and its reader not yet taken, and a reader
/// waiting for the next: a log consumer that lingers for more records before applying a batch
/// sleeps until a read brings frames or its linger ends, instead of waking every 250 µs to look.
final class BufferedFrames: Sendable {
    private struct State {
        var count = 0
        /// The stream has ended: no frame will come.
        var ended = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = NIOLockedValueBox(State())

    var count: Int { state.withLockedValue { $0.count } }

    /// Frames of a read arrived (on the event loop); wakes the waiting reader.
    func arrived(_ frames: Int) {
        let waiter = state.withLockedValue { state in
            state.count += frames
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// The reader took the frames of a read.
    func taken(_ frames: Int) {
        state.withLockedValue { $0.count -= frames }
    }

    /// Wakes the waiting reader without frames (its wait is over).
    func wake() {
        state.withLockedValue { $0.waiter.take() }?.resume()
    }

    /// The stream has ended: wakes the waiting reader, and no later wait waits.
    func end() {
        let waiter = state.withLockedValue { state in
            state.ended = true
            return state.waiter.take()
        }
        waiter?.resume()
    }

    /// Returns once frames are buffered or `timeout` has passed (whichever comes first; early
    /// too, when the stream ends). One reader at a time.
    func wait(timeout: TimeAmount, on eventLoop: any EventLoop) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLockedValue { state in
                if state.count > 0 || state.ended { return true }
                state.waiter = continuation
                return false
            }
            if ready {
                continuation.resume()
            } else {
                // A wake left over from an earlier wait may end this one early: the reader looks again.
                eventLoop.scheduleTask(in: timeout) { self.wake() }
            }
        }
    }
}
