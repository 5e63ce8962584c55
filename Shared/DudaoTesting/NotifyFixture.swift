import DudaoCore
import DudaoWire
import Foundation

/// A running `dudao-notify` with its own certificates, configuration, routes file and database.
public final class NotifyFixture: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `killAndRestart`, which a test calls from one task.
    public let root: TestDirectory
    public let pki: TestPKI
    public let configPath: String
    public let environment: [String: String]
    public private(set) var process: ServiceProcess
    private var restarts = 0

    public var port: Int { process.port }
    public var databasePath: String { root.file("data/notify.sqlite") }

    /// - Parameters:
    ///   - routes: the routes file (see `NotifyFixture.routes`).
    ///   - environment: `DUDAO_NOTIFY_*` overrides, e.g. `["DUDAO_NOTIFY_DELIVERY_MAX_ATTEMPTS": "3"]`.
    public init(routes: String, environment: [String: String] = [:]) throws {
        root = try TestDirectory("dudao-notify")
        pki = try TestPKI(in: root)
        try root.write("access.json", Self.accessFile)
        try root.write("routes.json", routes)
        try root.write("notify.json", Self.config(accessFile: "access.json", maxAttempts: 40))
        configPath = root.file("notify.json")
        self.environment = environment
        process = try Self.launch(configPath: configPath, root: root, port: 0, generation: 0, environment: environment)
    }

    /// notify.json of a test: any free port, the test PKI, `routes.json`, fast timers and retries.
    static func config(accessFile: String, maxAttempts: Int) -> String {
        """
        {"listen": {"host": "127.0.0.1", "port": 0},
         "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-notify.pem", "key": "certs/dudao-notify.key"},
         "access_file": "\(accessFile)", "routes_file": "routes.json", "database": "data/notify.sqlite",
         "tick_seconds": 0.05,
         "delivery": {"concurrency": 16, "max_attempts": \(maxAttempts), "backoff_initial_seconds": 0.05, "backoff_max_seconds": 0.4, "jitter": 0.1}}
        """
    }

    /// The access file of notify tests: the services send events, the operator asks and acks,
    /// `auditor` may only list.
    public static let accessFile = """
        {"identities": {
          "dudao-indicators": {"role": "service"},
          "dudao-safety": {"role": "service"},
          "operator": {"role": "operator"},
          "kg-census-system": {"queries": ["alerts.list"]}
        }}
        """

    static func launch(configPath: String, root: TestDirectory, port: Int, generation: Int, environment: [String: String]) throws
        -> ServiceProcess
    {
        var env = environment
        env["DUDAO_NOTIFY_LISTEN_PORT"] = String(port)
        return try ServiceProcess(
            executable: "dudao-notify", arguments: ["--config", configPath], environment: env,
            logTo: root.file("notify-\(generation).log"))
    }

    /// `kill -9` the service and start it again on the same port and database.
    /// `kill -9`, then `whileDown` (e.g. releasing a held receiver), then a restart on the same
    /// port and database.
    public func killAndRestart(whileDown: () -> Void = {}) throws {
        let port = process.port
        process.kill9()
        whileDown()
        restarts += 1
        process = try Self.launch(configPath: configPath, root: root, port: port, generation: restarts, environment: environment)
    }

    public func connect(as identity: String = "dudao-safety") async throws -> WireClient {
        try await WireClient.connect(host: "127.0.0.1", port: port, tls: try pki.clientContext(identity), serverIdentity: "dudao-notify")
    }

    /// Sends events pipelined on one connection and returns the replies in order.
    public func send(_ events: [JSONValue], as identity: String = "dudao-safety") async throws -> [JSONValue] {
        let client = try await connect(as: identity)
        for event in events { try await client.send(event, flush: false) }
        client.flush()
        var replies: [JSONValue] = []
        for _ in events {
            guard let reply = try await client.receive() else { throw WireClientError.closed }
            replies.append(reply)
        }
        await client.close()
        return replies
    }

    /// One query; returns the reply frame.
    public func query(_ type: String, _ body: JSONValue = [:], as identity: String = "operator") async throws -> JSONValue {
        let client = try await connect(as: identity)
        let reply = try await client.request(Frames.query("q-\(UUID().uuidString.prefix(8))", type, body))
        await client.close()
        return reply
    }

    /// Polls `notify.status` until `condition` holds or `seconds` pass; returns the last status body.
    @discardableResult
    public func waitForStatus(seconds: Double = 30, _ condition: (JSONValue) -> Bool) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(seconds)
        var body: JSONValue = [:]
        while Date() < deadline {
            body = try await query("notify.status")["body"] ?? [:]
            if condition(body) { return body }
            try await Task.sleep(for: .milliseconds(50))
        }
        return body
    }

    public func stop() {
        process.stop()
        root.remove()
    }

    /// Standard error of every run of the service so far (for failure messages).
    public var log: String {
        (0...restarts).map { (try? String(contentsOfFile: root.file("notify-\($0).log"), encoding: .utf8)) ?? "" }.joined(
            separator: "\n")
    }

    // MARK: building routes files and events

    /// Standard settings of a test route.
    public struct Timing: Sendable {
        public var groupWait: Double
        public var groupInterval: Double
        public var repeatInterval: Double

        public init(groupWait: Double = 0, groupInterval: Double = 0.3, repeatInterval: Double = 3600) {
            self.groupWait = groupWait
            self.groupInterval = groupInterval
            self.repeatInterval = repeatInterval
        }
    }

    /// A routes file sending `safety.*` to police + education + the town, everything else to
    /// education, each department to the webhook `<receiver>/<department>` (towns:
    /// `<receiver>/town/<id>`) signed with `secret`; escalation of critical alerts to
    /// `<receiver>/leading_group` after `escalateAfter` seconds.
    public static func routes(
        receiver: String, secret: String = "test-secret", timing: Timing = Timing(), escalateAfter: Double = 3600,
        groupBy: [String] = ["event", "town"], extraDepartments: String = "", webhookTimeout: Double = 2
    ) -> String {
        let groupByJSON = "[" + groupBy.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        func webhook(_ path: String) -> String {
            #"{"channels": [{"type": "webhook", "url": "\#(receiver)/\#(path)", "secret": "\#(secret)", "timeout_seconds": \#(webhookTimeout)}]}"#
        }
        return """
            {"defaults": {"group_by": \(groupByJSON), "group_wait_seconds": \(timing.groupWait),
                          "group_interval_seconds": \(timing.groupInterval), "repeat_interval_seconds": \(timing.repeatInterval)},
             "routes": [
               {"match": {"event": "safety.*"}, "to": ["police", "education", "town:*"]},
               {"match": {"indicator": "finance.*"}, "to": ["finance"]},
               {"match": {}, "to": ["education"]}],
             "inhibit": [{"source": {"event": "safety.institution_offline"}, "target": {"event": "safety.device_offline"}, "equal": ["institution"]}],
             "escalation": {"severity": "critical", "after_seconds": \(escalateAfter), "to": ["leading_group"]},
             "departments": {
               "police": \(webhook("police")),
               "education": \(webhook("education")),
               "finance": \(webhook("finance")),
               "leading_group": \(webhook("leading_group")),
               "town:*": \(webhook("town/{town}"))\(extraDepartments)},
             "town_names": {"dongcheng": "东成镇", "encheng": "恩城街道"}}
            """
    }

    /// An event frame as the services send it.
    public static func event(
        _ id: String, type: String = "safety.device_offline", severity: String = "warning", key: String,
        status: String = "firing",
        scope: String? = nil, town: String? = "dongcheng", institution: String? = "kg-dongcheng-01", device: String? = nil,
        indicator: String? = nil, summary: String = "东成镇中心幼儿园 一键报警设备离线", details: JSONObject = [:],
        at: String = "2026-11-29T08:00:00+08:00"
    ) -> JSONValue {
        var body: JSONObject = [
            "severity": .string(severity), "alert_key": .string(key), "status": .string(status),
            "scope": .string(scope ?? institution.map { "institution:\($0)" } ?? town.map { "town:\($0)" } ?? "city"),
        ]
        if let town { body["town_id"] = .string(town) }
        if let institution { body["institution_id"] = .string(institution) }
        if let device { body["device_id"] = .string(device) }
        if let indicator { body["indicator"] = .string(indicator) }
        body["summary"] = .string(summary)
        body["details"] = .object(details)
        body["at"] = .string(at)
        return Frame.event(id: id, type: type, body: .object(body))
    }
}
