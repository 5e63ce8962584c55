import ServiceLifecycle

/// Runs an async loop (one that returns once its task is cancelled) as a `Service`, cancelled
/// when graceful shutdown begins.
struct LoopService: Service {
    let body: @Sendable () async -> Void

    init(_ body: @escaping @Sendable () async -> Void) { self.body = body }

    func run() async throws {
        await cancelWhenGracefulShutdown { await body() }
    }
}
