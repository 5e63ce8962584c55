import DudaoCore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs a service's long-lived parts until SIGTERM or SIGINT, then shuts them down in reverse
/// order (each `Service` gets its graceful-shutdown signal).
public enum ServiceRuntime {
    /// A logger writing to standard error at `level` (`DUDAO_LOG_LEVEL` overrides): plain
    /// text, or JSON lines when the configuration file at `configPath` says `"log_format": "json"`
    /// or `DUDAO_LOG_FORMAT=json` is set (the environment wins).
    public static func makeLogger(label: String, level: Logger.Level = .info, configPath: String? = nil) -> Logger {
        let json = (environmentValue("DUDAO_LOG_FORMAT") ?? configPath.flatMap(logFormat(inFile:))) == "json"
        var logger = Logger(label: label) { label in
            json ? JSONLogHandler(label: label) as any LogHandler : StreamLogHandler.standardError(label: label)
        }
        if let text = environmentValue("DUDAO_LOG_LEVEL"), let parsed = Logger.Level(rawValue: text) {
            logger.logLevel = parsed
        } else {
            logger.logLevel = level
        }
        return logger
    }

    /// Reads a service's configuration (settings, access file, routes, catalog). Anything wrong
    /// is logged as critical and the process exits with 78 (EX_CONFIG) before binding a port.
    public static func configuration<T>(logger: Logger, _ read: () throws -> T) -> T {
        do {
            return try read()
        } catch {
            logger.critical("configuration: \(error)")
            exit(78)
        }
    }

    public static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        SystemdNotify.send("STOPPING=1")
    }

    /// `log_format` of a configuration file, read before the file is validated (so that the
    /// error about a bad file is already written in the format asked for).
    static func logFormat(inFile path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), let value = try? JSONParser.parse(Array(data)) else { return nil }
        return value["log_format"]?.stringValue
    }
}

/// A `Service` made of a closure that runs until graceful shutdown begins, and one that stops it.
public struct ClosureService: Service {
    let body: @Sendable () async throws -> Void
    let onShutdown: @Sendable () async -> Void

    /// - Parameters:
    ///   - body: runs the service; it should return once `onShutdown` has been called.
    ///   - onShutdown: called when graceful shutdown starts.
    public init(body: @escaping @Sendable () async throws -> Void, onShutdown: @escaping @Sendable () async -> Void) {
        self.body = body
        self.onShutdown = onShutdown
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await body()
        } onGracefulShutdown: {
            Task { await onShutdown() }
        }
    }
}

/// Runs `work` every `seconds` until graceful shutdown.
public struct PeriodicService: Service {
    let seconds: Int
    let work: @Sendable () async -> Void

    public init(every seconds: Int, work: @escaping @Sendable () async -> Void) {
        self.seconds = seconds
        self.work = work
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
                await work()
            }
        }
    }
}

/// Runs an async loop (one that returns when its task is cancelled) as a `Service`, cancelled
/// when graceful shutdown begins.
public struct TaskService: Service {
    let body: @Sendable () async -> Void

    public init(_ body: @escaping @Sendable () async -> Void) { self.body = body }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await body() }
    }
}
