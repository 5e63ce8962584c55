import DudaoCore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// A configuration mistake found at start (already logged as critical): the command exits 78
/// (EX_CONFIG) before it binds a port. Libraries throw it; only ``ServiceCommand`` turns it into
/// an exit status.
public struct ConfigurationFailure: Error, CustomStringConvertible {
    public let description: String
}

/// What every executable's start has in common: the logger, configuration errors, and the
/// service group that runs until SIGTERM or SIGINT and then shuts the parts down in reverse
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

    /// Reads part of a service's configuration (settings, access file, routes, catalog). Anything
    /// wrong is logged as critical and thrown as ``ConfigurationFailure``.
    public static func configured<T>(logger: Logger, _ read: () throws -> T) throws(ConfigurationFailure) -> T {
        do {
            return try read()
        } catch {
            logger.critical("configuration: \(error)")
            throw ConfigurationFailure(description: "\(error)")
        }
    }

    /// Runs `services` until SIGTERM or SIGINT, then shuts them down last to first.
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
