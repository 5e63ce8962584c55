import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is and how to reach it, read from a libpq-style URL:
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=FILE&host=/socket/dir]
///
/// `sslmode` is `disable` (the default), `require` (encrypted, the server not verified),
/// `verify-ca` (signed by `sslrootcert`) or `verify-full` (also its name). A `host` parameter
/// naming a folder connects through the Unix socket there, as libpq does.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, require, verifyCA = "verify-ca", verifyFull = "verify-full" }

    public var host: String
    public var port: Int
    public var socketFolder: String?
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var rootCertificate: String?

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(url text: String) throws(StorageConfigError) {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw StorageConfigError("not a postgres:// URL: \(Self.redacted(text))")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        user = components.user.map { $0.removingPercentEncoding ?? $0 } ?? "postgres"
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        socketFolder = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : path
        guard let mode = TLSMode(rawValue: query["sslmode"] ?? "disable") else {
            throw StorageConfigError("sslmode must be disable, require, verify-ca or verify-full, not \"\(query["sslmode"] ?? "")\"")
        }
        tls = mode
        rootCertificate = query["sslrootcert"]
        if tls == .verifyCA || tls == .verifyFull, rootCertificate == nil {
            throw StorageConfigError("sslmode=\(tls.rawValue) needs sslrootcert=FILE (the CA that signed the server's certificate)")
        }
        for key in query.keys where !["sslmode", "sslrootcert", "host"].contains(key) {
            throw StorageConfigError("unknown parameter \"\(key)\" in the database URL (known: sslmode, sslrootcert, host)")
        }
    }

    /// The URL without its password, for logs and status.
    public var description: String {
        let place = socketFolder.map { "?host=\($0)" } ?? ""
        return "postgres://\(user)@\(host):\(port)/\(database)\(place)\(tls == .disable ? "" : " (TLS \(tls.rawValue))")"
    }

    static func redacted(_ text: String) -> String {
        text.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression)
    }

    /// The connection settings: `search_path` set to `schema` and `synchronous_commit = on`
    /// (a COMMIT returns once the commit record is flushed, on the standbys too when the server
    /// names synchronous standbys), both sent in the startup message.
    func configuration(schema: String, applicationName: String) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketFolder {
            configuration = .init(
                unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: try tlsSetting())
        }
        configuration.options.additionalStartupParameters = [
            ("search_path", schema), ("synchronous_commit", "on"), ("application_name", applicationName),
        ]
        return configuration
    }

    private func tlsSetting() throws -> PostgresConnection.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable: return .disable
        case .require: settings.certificateVerification = .none
        case .verifyCA: settings.certificateVerification = .noHostnameVerification
        case .verifyFull: settings.certificateVerification = .fullVerification
        }
        if let rootCertificate { settings.trustRoots = .file(rootCertificate) }
        return .require(try NIOSSLContext(configuration: settings))
    }
}

/// A storage setting that cannot be used, said in words an operator can act on.
public struct StorageConfigError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
