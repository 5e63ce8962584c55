import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads a service's files on SIGHUP, step by step: a step whose new file is bad is refused
/// with a log line naming the file (and its line) and leaves the old one in force; the other
/// steps still apply. Connections already open keep working.
public struct ReloadService: Service {
    let steps: [ReloadStep]
    let logger: Logger

    public init(steps: [ReloadStep], logger: Logger) {
        self.steps = steps
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                reload()
            }
        }
    }

    /// Runs every step once; returns how many failed.
    @discardableResult
    public func reload() -> Int {
        SystemdNotify.send("RELOADING=1")
        var failed = 0
        for step in steps {
            do {
                try step.reload()
                logger.notice("reloaded \(step.name)")
            } catch {
                failed += 1
                logger.error("reload refused: \(step.name) kept as it was: \(error)")
            }
        }
        SystemdNotify.send("READY=1")
        return failed
    }
}
