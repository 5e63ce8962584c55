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
