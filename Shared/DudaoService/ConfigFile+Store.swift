import DudaoStorage

extension ConfigFile {
    /// Where a service keeps its state: `database` is a SQLite file (relative to the
    /// configuration, `fallback` when absent) or a `postgres://` URL (kept out of logs: it may
    /// carry a password).
    public func store(_ dotted: String = "database", default fallback: String) throws(ConfigError) -> StoreLocation {
        let database = try string(dotted, default: fallback, secret: true)
        do {
            return try StoreLocation(database, resolve: resolve)
        } catch {
            throw ConfigError("\(path): \(dotted): \(error)")
        }
    }
}
