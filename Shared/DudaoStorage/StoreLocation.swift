import Logging

/// Where a service keeps its state: a SQLite file (the embedded default) or a PostgreSQL
/// database, told apart by the configuration's `database` member: a path, or a `postgres://` URL.
public enum StoreLocation: Sendable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// `text` as written in the configuration; `resolve` makes a relative file path absolute.
    public init(_ text: String, resolve: (String) -> String) throws(StorageConfigError) {
        if PostgresLocation.isURL(text) {
            self = .postgres(try PostgresLocation(url: text))
        } else {
            self = .sqlite(path: resolve(text))
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location): location.description
        }
    }
}

extension StoreLocation {
    /// Opens the service's database here and applies `migrations` not yet applied: on
    /// PostgreSQL its tables live in `schema` (one per service, so services may share a database).
    ///
    /// - Parameter exclusive: on PostgreSQL, refuse to start beside a running instance on the
    ///   same schema (``PostgresDatabase``); the services' serve commands ask for it.
    public func open(schema: String, applicationName: String, migrations: [SQLMigration], logger: Logger, exclusive: Bool = false) throws -> any SQLDatabase {
        switch self {
        case .sqlite(let path):
            try SQLiteDatabase(path: path, migrations: migrations)
        case .postgres(let location):
            try PostgresDatabase(
                location: location, schema: schema, applicationName: applicationName, migrations: migrations, logger: logger,
                exclusive: exclusive)
        }
    }
}
