import DudaoCore
import DudaoWire
import Foundation
import NIOCore

/// A service's configuration: one JSON file, with environment overrides.
///
/// An override names a member path in upper case with `_` for `.`, after a prefix:
/// `DUDAO_INGEST_LISTEN_PORT=7500` sets `listen.port` in `dudao-ingest`'s file. The value is
/// read as JSON when it parses (numbers, booleans, arrays) and as a string otherwise. Relative
/// paths in the file are resolved against the file's folder, so a deployment folder can move.
public struct ConfigFile: Sendable {
    public let path: String
    public let directory: String
    public private(set) var root: JSONObject

    /// Loads `path` and applies the overrides from `environment` that start with `prefix`.
    public init(path: String, environmentPrefix prefix: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigError)
    {
        self.path = path
        let url = URL(fileURLWithPath: path)
        self.directory = url.deletingLastPathComponent().path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the configuration file")
        }
        let bytes = Array(data)
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ConfigError("\(path): line \(error.line(in: bytes)): not valid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw ConfigError("\(path): the configuration must be a JSON object") }
        self.root = object
        for (name, text) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(prefix) {
            let pathComponents = name.dropFirst(prefix.count).lowercased().split(separator: "_").map(String.init)
            guard !pathComponents.isEmpty else { continue }
            let parsed = (try? JSONParser.parse(text)) ?? .string(text)
            applyOverride(path: resolveOverridePath(pathComponents), value: parsed)
        }
    }

    /// Environment names cannot tell `max_frame_bytes` from `max.frame.bytes`: match the
    /// longest member names that exist in the file first.
    private func resolveOverridePath(_ words: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        var current: JSONObject? = root
        while index < words.count {
            var matched = false
            for end in stride(from: words.count, to: index, by: -1) {
                let candidate = words[index..<end].joined(separator: "_")
                if let value = current?[candidate] {
                    result.append(candidate)
                    current = value.objectValue
                    index = end
                    matched = true
                    break
                }
            }
            if !matched {
                result.append(words[index...].joined(separator: "_"))
                break
            }
        }
        return result
    }

    private mutating func applyOverride(path: [String], value: JSONValue) {
        func set(_ object: inout JSONObject, _ path: ArraySlice<String>) {
            guard let first = path.first else { return }
            if path.count == 1 {
                object[first] = value
            } else {
                var child = object[first]?.objectValue ?? JSONObject()
                set(&child, path.dropFirst())
                object[first] = .object(child)
            }
        }
        set(&root, path[...])
    }

    /// The value at a dotted path (`listen.port`).
    public func value(_ dotted: String) -> JSONValue? {
        var current: JSONValue = .object(root)
        for component in dotted.split(separator: ".") {
            guard let next = current[String(component)] else { return nil }
            current = next
        }
        return current
    }

    public func string(_ dotted: String, default fallback: String? = nil) throws(ConfigError) -> String {
        guard let value = value(dotted) else {
            if let fallback { return fallback }
            throw ConfigError("\(path): \(dotted) is required")
        }
        guard let text = value.stringValue else { throw ConfigError("\(path): \(dotted) must be a string") }
        return text
    }

    public func int(_ dotted: String, default fallback: Int? = nil, range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        guard let value = value(dotted) else {
            if let fallback { return fallback }
            throw ConfigError("\(path): \(dotted) is required")
        }
        guard let number = value.intValue else { throw ConfigError("\(path): \(dotted) must be an integer") }
        if let range, !range.contains(Int(number)) {
            throw ConfigError("\(path): \(dotted) must be from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        return Int(number)
    }

    public func double(_ dotted: String, default fallback: Double) throws(ConfigError) -> Double {
        guard let value = value(dotted) else { return fallback }
        guard let number = value.doubleValue else { throw ConfigError("\(path): \(dotted) must be a number") }
        return number
    }

    public func strings(_ dotted: String, default fallback: [String] = []) throws(ConfigError) -> [String] {
        guard let value = value(dotted) else { return fallback }
        guard let array = value.arrayValue else { throw ConfigError("\(path): \(dotted) must be an array of strings") }
        var result: [String] = []
        for element in array {
            guard let text = element.stringValue else { throw ConfigError("\(path): \(dotted) must be an array of strings") }
            result.append(text)
        }
        return result
    }

    /// A path from the file, resolved against the file's folder when relative.
    public func filePath(_ dotted: String, default fallback: String? = nil) throws(ConfigError) -> String {
        resolve(try string(dotted, default: fallback))
    }

    /// Resolves `path` against the configuration file's folder.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (directory.isEmpty ? path : "\(directory)/\(path)")
    }
}

/// A configuration problem, said so an operator can fix it.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ConfigFile {
    /// A timeout in seconds (fractions allowed); `0` or a negative number means none (`nil`).
    public func timeout(_ dotted: String, default fallback: Double) throws(ConfigError) -> TimeAmount? {
        let seconds = try double(dotted, default: fallback)
        return seconds > 0 ? .nanoseconds(Int64(seconds * 1e9)) : nil
    }
}

extension ConfigFile {
    /// The listening port's settings every service reads the same way: `listen.host`,
    /// `listen.port`, `max_frame_bytes`, `max_in_flight`, `idle_timeout_seconds`,
    /// `frame_timeout_seconds`.
    public func frameServer(defaultPort: Int, defaultInFlight: Int = 256) throws(ConfigError) -> FrameServerConfiguration {
        FrameServerConfiguration(
            host: try string("listen.host", default: "127.0.0.1"),
            port: try int("listen.port", default: defaultPort, range: 0...65535),
            maxFrameBytes: try int("max_frame_bytes", default: 1_048_576, range: 64...(64 * 1_048_576)),
            maxInFlight: try int("max_in_flight", default: defaultInFlight, range: 1...100_000),
            idleTimeout: try timeout("idle_timeout_seconds", default: 300),
            frameTimeout: try timeout("frame_timeout_seconds", default: 30) ?? .seconds(30))
    }

    /// The service's own certificate, key and CA: `tls.ca`, `tls.certificate`, `tls.key`.
    public func tlsFiles() throws(ConfigError) -> TLSFiles {
        TLSFiles(
            caPath: try filePath("tls.ca"), certificatePath: try filePath("tls.certificate"), keyPath: try filePath("tls.key"),
            revokedPath: value("tls.revoked") == nil ? nil : try filePath("tls.revoked"))
    }

    /// Another service this one connects to: `<name>.host` (default 127.0.0.1), `<name>.port`
    /// and `<name>.identity`, the CN its certificate must carry (default `dudao-<name>`).
    public func endpoint(_ name: String, defaultPort: Int) throws(ConfigError) -> Endpoint {
        Endpoint(
            host: try string("\(name).host", default: "127.0.0.1"), port: try int("\(name).port", default: defaultPort, range: 1...65535),
            identity: try string("\(name).identity", default: "dudao-\(name)"))
    }
}

/// Where another service listens.
public struct Endpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The identity (certificate CN) the server there must present.
    public var identity: String

    public init(host: String, port: Int, identity: String) {
        self.host = host
        self.port = port
        self.identity = identity
    }
}

extension ConfigFile {
    /// `metrics.host` (default 127.0.0.1) and `metrics.port`: the HTTP port for `/metrics`,
    /// `/health` and `/ready`; `nil` when the file has no `metrics` member.
    public func metricsAddress() throws(ConfigError) -> HTTPAddress? {
        guard value("metrics") != nil else { return nil }
        return HTTPAddress(host: try string("metrics.host", default: "127.0.0.1"), port: try int("metrics.port", range: 0...65535))
    }
}

/// Where a service's HTTP port (metrics and health) listens.
public struct HTTPAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
