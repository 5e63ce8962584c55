import Configuration
import DudaoCore
import DudaoWire
import Foundation
import NIOCore

/// A service's configuration: one JSON file, with environment overrides, read through
/// swift-configuration's `ConfigReader` (environment variables above the file).
///
/// An override names a setting in upper case with `_` for `.`, after a prefix:
/// `DUDAO_INGEST_LISTEN_PORT=7500` sets `listen.port` of `dudao-ingest`, whether or not the file
/// has a `listen` object. The name is matched against the key the service asks for, so
/// `DUDAO_INGEST_MAX_FRAME_BYTES` is `max_frame_bytes`. Values are text: numbers as written,
/// lists separated by commas. Relative paths are resolved against the file's folder, so a
/// deployment folder can move.
///
/// After a service has read its settings, `checkUnknownKeys()` refuses any member of the file
/// and any variable with the prefix that names no setting it read (members starting with `_`
/// are comments). Settings whose last component says `secret`, `password` or `token` (or that
/// the reader marks `secret:`) are shown as `<redacted>` by `redactedDescription`.
public struct ConfigFile: Sendable {
    public let path: String
    public let directory: String
    /// The file's members as written (environment overrides are not merged in).
    public let root: JSONObject
    /// `DUDAO_INGEST_`.
    public let environmentPrefix: String
    /// The service the prefix names (`dudao-ingest`), as messages say it.
    public let service: String
    /// The environment variables with the prefix.
    let overrides: [String: String]
    let reader: ConfigReader
    let recorder: ConfigAccessRecorder
    let fileProviderName: String

    /// Settings every service knows although its `…Config` does not read them through here
    /// (`log_format` is read by `ServiceRuntime.makeLogger` before the configuration).
    static let readElsewhere: Set<String> = ["log_format"]

    /// Loads `path` and layers the variables from `environment` that start with `prefix` above it.
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
        self.environmentPrefix = prefix
        let words = prefix.lowercased().split(separator: "_").map(String.init)
        self.service = words.joined(separator: "-")
        let overrides = environment.filter { $0.key.hasPrefix(prefix) && $0.key.count > prefix.count }
        self.overrides = overrides
        let file: JSONFileProvider
        do {
            file = try JSONFileProvider(name: path, object: Self.withoutComments(object), secret: { Self.isSecretKey($0) })
        } catch {
            throw ConfigError("\(path): \(error)")
        }
        fileProviderName = file.providerName
        let variables = EnvironmentVariablesProvider(
            environmentVariables: overrides, secretsSpecifier: .dynamic { name, _ in Self.isSecretName(name) }
        ).prefixKeys(with: ConfigKey(words))
        recorder = ConfigAccessRecorder()
        reader = ConfigReader(providers: [variables, file], accessReporter: recorder)
    }

    // MARK: Reading

    /// What a setting must be, as messages say it.
    private enum Kind: String {
        case string = "a string"
        case integer = "an integer"
        case number = "a number"
        case strings = "an array of strings"
        case boolean = "true or false"

        func accepts(_ value: JSONValue) -> Bool {
            switch self {
            case .string: value.stringValue != nil
            case .integer: value.intValue != nil
            case .number: value.doubleValue != nil
            case .strings: value.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false
            case .boolean: value.boolValue != nil
            }
        }
    }

    /// Asks the reader for `dotted`; a value a provider cannot convert to `kind` is an error
    /// naming the member (and the variable, when the environment set it).
    private func lookup<Value>(
        _ dotted: String, _ kind: Kind, secret: Bool, _ get: (ConfigReader, ConfigKey, Bool) -> Value?
    ) throws(ConfigError) -> Value? {
        let found = get(reader, ConfigKey(dotted), secret || Self.isSecretKey(dotted))
        let access = recorder.access(dotted)
        if let failed = access?.failedProvider {
            throw ConfigError(
                failed == fileProviderName
                    ? "\(path): \(dotted) must be \(kind.rawValue)"
                    : "\(path): \(dotted) must be \(kind.rawValue) (set by \(environmentName(dotted)))")
        }
        if found != nil, access?.provider == fileProviderName, let member = member(dotted), !kind.accepts(member) {
            throw ConfigError("\(path): \(dotted) must be \(kind.rawValue), not a \(member.typeName)")
        }
        if found == nil, let member = member(dotted), case .object = member {
            throw ConfigError("\(path): \(dotted) must be \(kind.rawValue), not an object")
        }
        return found
    }

    private func fallback<Value>(_ dotted: String, _ value: Value?, shown: (Value) -> String, secret: Bool = false) throws(ConfigError)
        -> Value
    {
        guard let value else { throw ConfigError("\(path): \(dotted) is required (or set \(environmentName(dotted)))") }
        recorder.usedDefault(dotted, shown: shown(value), isSecret: secret || Self.isSecretKey(dotted))
        return value
    }

    /// The file's member at a dotted path (`listen.port`), as written; environment overrides
    /// are not seen here. The whole subtree counts as read (not an unknown key).
    public func value(_ dotted: String) -> JSONValue? {
        recorder.touched(dotted)
        return member(dotted)
    }

    func member(_ dotted: String) -> JSONValue? {
        var current: JSONValue = .object(root)
        for component in dotted.split(separator: ".") {
            guard let next = current[String(component)] else { return nil }
            current = next
        }
        if case .null = current { return nil }
        return current
    }

    /// Whether the file or the environment sets `dotted` (whatever its type).
    func isSet(_ dotted: String) -> Bool {
        member(dotted) != nil || overrides[environmentName(dotted)] != nil
    }

    /// The environment variable that overrides `dotted` (`DUDAO_INGEST_LISTEN_PORT`).
    public func environmentName(_ dotted: String) -> String {
        environmentPrefix
            + dotted.split(separator: ".").map { String($0.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }) }
            .joined(separator: "_")
    }

    public func string(_ dotted: String, default fallback: String? = nil, secret: Bool = false) throws(ConfigError) -> String {
        if let text = try optionalString(dotted, secret: secret) { return text }
        return try self.fallback(dotted, fallback, shown: { $0 }, secret: secret)
    }

    /// A string that may be absent (no default).
    public func optionalString(_ dotted: String, secret: Bool = false) throws(ConfigError) -> String? {
        try lookup(dotted, .string, secret: secret) { reader, key, secret in reader.string(forKey: key, isSecret: secret) }
    }

    public func int(_ dotted: String, default fallback: Int? = nil, range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        guard let number = try lookup(dotted, .integer, secret: false, { reader, key, secret in reader.int(forKey: key, isSecret: secret) })
        else { return try self.fallback(dotted, fallback, shown: { "\($0)" }) }
        if let range, !range.contains(number) {
            throw ConfigError("\(path): \(dotted) must be from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        return number
    }

    public func double(_ dotted: String, default fallback: Double) throws(ConfigError) -> Double {
        guard
            let number = try lookup(dotted, .number, secret: false, { reader, key, secret in reader.double(forKey: key, isSecret: secret) })
        else { return try self.fallback(dotted, fallback, shown: { "\($0)" }) }
        return number
    }

    public func bool(_ dotted: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let flag = try lookup(dotted, .boolean, secret: false, { reader, key, secret in reader.bool(forKey: key, isSecret: secret) })
        else { return try self.fallback(dotted, fallback, shown: { "\($0)" }) }
        return flag
    }

    public func strings(_ dotted: String, default fallback: [String] = []) throws(ConfigError) -> [String] {
        guard
            let list = try lookup(dotted, .strings, secret: false, { reader, key, secret in reader.stringArray(forKey: key, isSecret: secret) })
        else { return try self.fallback(dotted, fallback, shown: { "[\($0.joined(separator: ", "))]" }) }
        return list
    }

    /// A path from the file, resolved against the file's folder when relative.
    public func filePath(_ dotted: String, default fallback: String? = nil) throws(ConfigError) -> String {
        resolve(try string(dotted, default: fallback))
    }

    /// A path that may be absent, resolved like `filePath`.
    public func optionalFilePath(_ dotted: String) throws(ConfigError) -> String? {
        try optionalString(dotted).map(resolve)
    }

    /// Resolves `path` against the configuration file's folder.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (directory.isEmpty ? path : "\(directory)/\(path)")
    }

    // MARK: Secrets

    /// A setting whose last component says `secret`, `password` or `token` is never shown.
    public static func isSecretKey(_ dotted: String) -> Bool {
        let last = dotted.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return ["secret", "password", "token"].contains { last.contains($0) }
    }

    static func isSecretName(_ variable: String) -> Bool {
        let name = variable.lowercased()
        return ["secret", "password", "token"].contains { name.contains($0) }
    }

    static func withoutComments(_ object: JSONObject) -> JSONObject {
        JSONObject(
            object.compactMap { member in
                if member.key.hasPrefix("_") { return nil }
                if case .object(let child) = member.value { return (member.key, .object(withoutComments(child))) }
                return member
            })
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
            revokedPath: try optionalFilePath("tls.revoked"))
    }

    /// Another service this one connects to: `<name>.host` (default 127.0.0.1), `<name>.port`
    /// and `<name>.identity`, the CN its certificate must carry (default `dudao-<name>`).
    public func endpoint(_ name: String, defaultPort: Int) throws(ConfigError) -> Endpoint {
        Endpoint(
            host: try string("\(name).host", default: "127.0.0.1"), port: try int("\(name).port", default: defaultPort, range: 1...65535),
            identity: try string("\(name).identity", default: "dudao-\(name)"))
    }

    /// `NAME.failover`: more `host:port` places serving the same thing (ingest instances on one
    /// PostgreSQL database), tried in turn when the one in use fails.
    public func failover(_ name: String) throws(ConfigError) -> [(host: String, port: Int)] {
        var places: [(host: String, port: Int)] = []
        for text in try strings("\(name).failover") {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port),
                colon > text.startIndex
            else {
                throw ConfigError("\(path): \(name).failover: \"\(text)\" is not host:port")
            }
            places.append((String(text[..<colon]), port))
        }
        return places
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
    /// `/health` and `/ready`; `nil` when neither the file (a `metrics` member) nor the
    /// environment (`…_METRICS_HOST`, `…_METRICS_PORT`) sets it.
    public func metricsAddress() throws(ConfigError) -> HTTPAddress? {
        guard member("metrics") != nil || isSet("metrics.host") || isSet("metrics.port") else {
            recorder.touched("metrics.host")
            recorder.touched("metrics.port")
            return nil
        }
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
