import DudaoCore
import DudaoService
import DudaoWire
import Foundation

/// `deploy/web.json`: where the dashboard listens, its client certificate, the services it asks
/// and the accounts file.
struct WebConfig: Sendable {
    var host: String
    var port: Int
    /// The dashboard's own client certificate (CN `dudao-web`), key and CA.
    var tls: TLSFiles
    var ingest: Endpoint
    var indicators: Endpoint
    var safety: Endpoint
    var notify: Endpoint
    var accountsFile: String
    var templatesDirectory: String
    var staticDirectory: String
    /// Whether the session cookie carries `Secure` (keep it on: behind a TLS proxy, and browsers
    /// accept it on http://127.0.0.1 and http://localhost).
    var secureCookies: Bool
    /// When set, browsers get HTTPS directly (this certificate chain and key, PEM) instead of
    /// plain HTTP behind a reverse proxy.
    var https: (certificate: String, key: String)?
    /// How often the services are asked (seconds).
    var pollSeconds: Double
    /// A session ends after this long without a request (seconds).
    var sessionIdleSeconds: Int

    init(file: ConfigFile) throws(ConfigError) {
        host = try file.string("listen.host", default: "127.0.0.1")
        port = try file.int("listen.port", default: 8080, range: 0...65535)
        tls = TLSFiles(
            caPath: try file.filePath("tls.ca"), certificatePath: try file.filePath("tls.certificate"),
            keyPath: try file.filePath("tls.key"))
        ingest = try file.endpoint("ingest", defaultPort: 7401)
        indicators = try file.endpoint("indicators", defaultPort: 7402)
        safety = try file.endpoint("safety", defaultPort: 7403)
        notify = try file.endpoint("notify", defaultPort: 7404)
        accountsFile = try file.filePath("accounts_file")
        templatesDirectory = try file.filePath("templates_dir", default: "web/templates")
        staticDirectory = try file.filePath("static_dir", default: "web/static")
        secureCookies = try file.bool("secure_cookies", default: true)
        if file.value("https") != nil {
            https = (try file.filePath("https.certificate"), try file.filePath("https.key"))
        }
        pollSeconds = max(0.2, try file.double("poll_seconds", default: 1))
        sessionIdleSeconds = try file.int("session_idle_seconds", default: 8 * 3600, range: 60...(7 * 24 * 3600))
        try file.checkUnknownKeys()
    }
}
