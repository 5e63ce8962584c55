import ServiceLifecycle

/// Runs `body` after each `interval` — with the tick's number, from 1 — until the task is
/// cancelled or graceful shutdown begins: the loop of every periodic service (compaction,
/// liveness, notify's timers). A tick in progress finishes; the next sleep is cut short.
public func repeatEvery(_ interval: Duration, _ body: @escaping @Sendable (_ tick: Int) async -> Void) async {
    await cancelWhenGracefulShutdown {
        var tick = 0
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            tick += 1
            await body(tick)
        }
    }
}
