import DudaoService
import DudaoTesting
import DudaoWire
import Foundation
import Testing

@testable import dudao_indicators
@testable import dudao_ingest
@testable import dudao_notify
@testable import dudao_safety

/// `ConfigFile` on swift-configuration: the file under the environment, unknown keys refused
/// with their path, nested overrides without a parent, secrets redacted.
@Suite struct ConfigFileTests {
    /// A folder with `svc.json` holding `json`, and the file read with `environment`.
    struct Setup {
        let folder: TestDirectory
        let path: String
        let file: ConfigFile

        init(_ json: String, environment: [String: String] = [:]) throws {
            folder = try TestDirectory("dudao-config")
            try folder.write("svc.json", json)
            path = folder.file("svc.json")
            file = try ConfigFile(path: path, environmentPrefix: "DUDAO_SVC_", environment: environment)
        }
    }

    static let tls = #""tls": {"ca": "certs/ca.pem", "certificate": "certs/svc.pem", "key": "certs/svc.key"}"#

    @Test func unknownKeyInTheFileIsAnErrorNamingItsPath() throws {
        let setup = try Setup(#"{"listen": {"host": "127.0.0.1", "prot": 7401}, "metrcs": {"port": 9100}, \#(Self.tls)}"#)
        defer { setup.folder.remove() }
        _ = try setup.file.frameServer(defaultPort: 7401)
        _ = try setup.file.tlsFiles()
        #expect(try setup.file.metricsAddress() == nil)
        let error = #expect(throws: ConfigError.self) { try setup.file.checkUnknownKeys() }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("\(setup.path): "), "\(text)")
        #expect(text.contains("listen.prot is not a setting of dudao-svc (did you mean listen.port?); known in listen: host, port"), "\(text)")
        #expect(text.contains("metrcs is not a setting of dudao-svc (did you mean metrics?)"), "\(text)")
    }

    @Test func aValueWhereAnObjectIsExpectedIsAnError() throws {
        let setup = try Setup(#"{"listen": 7401, \#(Self.tls)}"#)
        defer { setup.folder.remove() }
        _ = try setup.file.frameServer(defaultPort: 7401)
        _ = try setup.file.tlsFiles()
        let error = #expect(throws: ConfigError.self) { try setup.file.checkUnknownKeys() }
        #expect(error?.description.contains("listen must be an object (of host, port)") == true, "\(String(describing: error))")
    }

    @Test func unknownEnvironmentVariableWithThePrefixIsAnError() throws {
        let setup = try Setup(
            #"{\#(Self.tls)}"#, environment: ["DUDAO_SVC_LISTEN_PROT": "7500", "DUDAO_SVC_LISTEN_HOST": "0.0.0.0", "DUDAO_OTHER_X": "1"])
        defer { setup.folder.remove() }
        let server = try setup.file.frameServer(defaultPort: 7401)
        #expect(server.host == "0.0.0.0")
        #expect(server.port == 7401)
        _ = try setup.file.tlsFiles()
        let error = #expect(throws: ConfigError.self) { try setup.file.checkUnknownKeys() }
        let text = error?.description ?? ""
        #expect(text.contains("environment variable DUDAO_SVC_LISTEN_PROT is not a setting of dudao-svc (did you mean DUDAO_SVC_LISTEN_PORT?)"), "\(text)")
        #expect(!text.contains("DUDAO_OTHER_X"))
        #expect(!text.contains("DUDAO_SVC_LISTEN_HOST is not"))
    }

    @Test func nestedOverrideNeedsNoParentInTheFile() throws {
        let setup = try Setup(
            #"{"ingest": {"port": 7401}}"#,
            environment: ["DUDAO_SVC_NOTIFY_HOST": "notify.edu.example", "DUDAO_SVC_NOTIFY_PORT": "7504", "DUDAO_SVC_METRICS_PORT": "9100"])
        defer { setup.folder.remove() }
        let notify = try setup.file.endpoint("notify", defaultPort: 7404)
        #expect(notify == Endpoint(host: "notify.edu.example", port: 7504, identity: "dudao-notify"))
        #expect(try setup.file.endpoint("ingest", defaultPort: 1).port == 7401)
        // The metrics port is turned on by the environment alone.
        #expect(try setup.file.metricsAddress() == HTTPAddress(host: "127.0.0.1", port: 9100))
        try setup.file.checkUnknownKeys()
        #expect(setup.file.value("notify_host") == nil)
    }

    @Test func underscoreNamesResolveByTheKeyAskedFor() throws {
        let setup = try Setup(
            #"{"retention": {"compact_interval_seconds": 60}}"#,
            environment: ["DUDAO_SVC_MAX_FRAME_BYTES": "8192", "DUDAO_SVC_RETENTION_COMPACT_INTERVAL_SECONDS": "5",
                          "DUDAO_SVC_RETENTION_EVENT_DAYS": "3"])
        defer { setup.folder.remove() }
        // `max_frame_bytes` is one top-level member, not `max.frame.bytes`.
        #expect(try setup.file.int("max_frame_bytes", default: 1024) == 8192)
        // `retention.compact_interval_seconds` is a member of `retention`, with or without it in the file.
        #expect(try setup.file.int("retention.compact_interval_seconds", default: 60) == 5)
        #expect(try setup.file.double("retention.event_days", default: 90) == 3)
        try setup.file.checkUnknownKeys()
        let summary = setup.file.redactedDescription
        #expect(summary.contains("max_frame_bytes=8192 (DUDAO_SVC_MAX_FRAME_BYTES)"), "\(summary)")
        #expect(summary.contains("retention.compact_interval_seconds=5 (DUDAO_SVC_RETENTION_COMPACT_INTERVAL_SECONDS)"), "\(summary)")
    }

    @Test func wrongTypeIsAnErrorNamingThePath() throws {
        let setup = try Setup(#"{"listen": {"port": "7401"}, "tick_seconds": "fast", "flag": true, "consumers": "dudao-safety", "name": 5}"#)
        defer { setup.folder.remove() }
        let port = #expect(throws: ConfigError.self) { try setup.file.int("listen.port", default: 1) }
        #expect(port?.description == "\(setup.path): listen.port must be an integer")
        let tick = #expect(throws: ConfigError.self) { try setup.file.double("tick_seconds", default: 0.5) }
        #expect(tick?.description == "\(setup.path): tick_seconds must be a number")
        let flag = #expect(throws: ConfigError.self) { try setup.file.int("flag", default: 1) }
        #expect(flag?.description.hasPrefix("\(setup.path): flag must be an integer") == true, "\(String(describing: flag))")
        let list = #expect(throws: ConfigError.self) { try setup.file.strings("consumers") }
        #expect(list?.description == "\(setup.path): consumers must be an array of strings")
        let name = #expect(throws: ConfigError.self) { try setup.file.string("name", default: "x") }
        #expect(name?.description == "\(setup.path): name must be a string")

        let fromEnvironment = try Setup("{}", environment: ["DUDAO_SVC_LISTEN_PORT": "seventy"])
        defer { fromEnvironment.folder.remove() }
        let variable = #expect(throws: ConfigError.self) { try fromEnvironment.file.int("listen.port", default: 1) }
        #expect(variable?.description == "\(fromEnvironment.path): listen.port must be an integer (set by DUDAO_SVC_LISTEN_PORT)")

        let range = try Setup(#"{"listen": {"port": 70000}}"#)
        defer { range.folder.remove() }
        let outside = #expect(throws: ConfigError.self) { try range.file.int("listen.port", range: 0...65535) }
        #expect(outside?.description == "\(range.path): listen.port must be from 0 to 65535, got 70000")
        let missing = #expect(throws: ConfigError.self) { try range.file.string("tls.ca") }
        #expect(missing?.description == "\(range.path): tls.ca is required (or set DUDAO_SVC_TLS_CA)")
    }

    @Test func secretsAreRedacted() throws {
        let setup = try Setup(
            #"{"listen": {"host": "127.0.0.1"}, "smtp": {"password": "hunter2", "user": "edu"}, "webhook_secret": "s3cr3t", "db_key": "k3y"}"#,
            environment: ["DUDAO_SVC_API_TOKEN": "tok-123"])
        defer { setup.folder.remove() }
        #expect(try setup.file.string("smtp.password") == "hunter2")
        #expect(try setup.file.string("smtp.user") == "edu")
        #expect(try setup.file.string("webhook_secret") == "s3cr3t")
        #expect(try setup.file.string("api_token") == "tok-123")
        #expect(try setup.file.string("db_key", secret: true) == "k3y")
        #expect(try setup.file.string("listen.host") == "127.0.0.1")
        try setup.file.checkUnknownKeys()
        let summary = setup.file.redactedDescription
        for secret in ["hunter2", "s3cr3t", "tok-123", "k3y"] { #expect(!summary.contains(secret), "\(summary)") }
        #expect(summary.contains("smtp.password=<redacted>"), "\(summary)")
        #expect(summary.contains("api_token=<redacted> (DUDAO_SVC_API_TOKEN)"), "\(summary)")
        #expect(summary.contains("db_key=<redacted>"), "\(summary)")
        #expect(summary.contains("smtp.user=edu"), "\(summary)")
        #expect(summary.contains("listen.host=127.0.0.1"), "\(summary)")
    }

    @Test func commentsAndLogFormatAreAllowed() throws {
        let setup = try Setup(
            #"{"_comment": "the education bureau's ingest", "log_format": "json", "listen": {"_why": [{"see": "DEPLOYING.md"}], "port": 0}, \#(Self.tls)}"#)
        defer { setup.folder.remove() }
        #expect(try setup.file.frameServer(defaultPort: 7401).port == 0)
        _ = try setup.file.tlsFiles()
        try setup.file.checkUnknownKeys()
    }

    @Test func relativePathsResolveAgainstTheFilesFolder() throws {
        let setup = try Setup(#"{\#(Self.tls), "database": "data/svc.sqlite"}"#, environment: ["DUDAO_SVC_TLS_REVOKED": "revoked.json"])
        defer { setup.folder.remove() }
        let tls = try setup.file.tlsFiles()
        #expect(tls.caPath == setup.folder.file("certs/ca.pem"))
        #expect(tls.revokedPath == setup.folder.file("revoked.json"))
        #expect(try setup.file.filePath("database") == setup.folder.file("data/svc.sqlite"))
        #expect(try setup.file.filePath("access_file", default: "/etc/dudao/access.json") == "/etc/dudao/access.json")
        try setup.file.checkUnknownKeys()
    }

    /// Every configuration the repository ships is read without an unknown key.
    @Test(arguments: ["deploy", "deploy/host"])
    func shippedConfigurationsHaveNoUnknownKeys(folder: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let base = root.appendingPathComponent(folder).path
        _ = try dudao_ingest.IngestConfig(file: ConfigFile(path: "\(base)/ingest.json", environmentPrefix: "DUDAO_INGEST_", environment: [:]))
        _ = try dudao_indicators.IndicatorsConfig(
            file: ConfigFile(path: "\(base)/indicators.json", environmentPrefix: "DUDAO_INDICATORS_", environment: [:]))
        _ = try dudao_safety.SafetyConfig(file: ConfigFile(path: "\(base)/safety.json", environmentPrefix: "DUDAO_SAFETY_", environment: [:]))
        _ = try dudao_notify.NotifyConfig(file: ConfigFile(path: "\(base)/notify.json", environmentPrefix: "DUDAO_NOTIFY_", environment: [:]))
    }

    /// End to end: `dudao-ingest check-config` exits 78 naming a misspelt key, or variable.
    @Test func checkConfigNamesAMisspeltKey() throws {
        let folder = try TestDirectory("dudao-config")
        defer { folder.remove() }
        try folder.write("ingest.json", #"{"listen": {"host": "127.0.0.1", "prot": 7401}, \#(Self.tls), "access_file": "access.json"}"#)
        let result = try runTool("dudao-ingest", ["check-config", "--config", folder.file("ingest.json")])
        #expect(result.status == 78, "\(result.output)\(result.error)")
        #expect(result.output.contains("listen.prot is not a setting of dudao-ingest (did you mean listen.port?)"), "\(result.output)")

        try folder.write("good.json", #"{"listen": {"host": "127.0.0.1", "port": 0}, \#(Self.tls), "access_file": "access.json"}"#)
        let variable = try runTool(
            "dudao-ingest", ["check-config", "--config", folder.file("good.json")], environment: ["DUDAO_INGEST_MAX_FRAME_BYTE": "4096"])
        #expect(variable.status == 78, "\(variable.output)\(variable.error)")
        #expect(variable.output.contains("DUDAO_INGEST_MAX_FRAME_BYTE is not a setting of dudao-ingest (did you mean DUDAO_INGEST_MAX_FRAME_BYTES?)"), "\(variable.output)")
    }
}
