/// `dudao-<service> check-config --config FILE`: reads the configuration and every file it names
/// (access file, routes, catalog, TLS files) exactly as the service would at start, without
/// opening a database or a port.
public enum ConfigurationCheck {
    /// Runs `read` (what a start reads; it returns a short summary) and prints `ok: FILE (summary)`,
    /// or `error: …`. Returns whether the files are usable; the caller exits 78 when not.
    public static func run(configPath: String, _ read: () throws -> String) -> Bool {
        do {
            let summary = try read()
            print("ok: \(configPath) (\(summary))")
            return true
        } catch {
            print("error: \(error)")
            return false
        }
    }
}
