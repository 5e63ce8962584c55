import DudaoCore
import DudaoService
import Foundation

/// Reads and checks a routes file; every mistake is reported as `FILE:LINE: path: what is wrong`.
///
/// ```json
/// {"defaults": {"group_by": ["event", "town"], "group_wait_seconds": 30},
///  "routes": [{"match": {"event": "safety.*"}, "to": ["police", "education", "town:*"]}],
///  "departments": {"police": {"channels": [{"type": "webhook", "url": "https://...", "secret_env": "POLICE_SECRET"}]}},
///  "inhibit": [{"source": {"event": "safety.institution_offline"}, "target": {"event": "safety.device_*"}, "equal": ["institution"]}],
///  "escalation": {"severity": ["critical"], "after_seconds": 900, "to": ["leading_group"]}}
/// ```
///
/// Members whose names start with `_` are comments and ignored.
enum RoutesFile {
    static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError)
        -> Routes
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the routes file")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(Array(data), name: path, directory: directory, environment: environment)
    }

    static func parse(_ bytes: [UInt8], name: String, directory: String, environment: [String: String] = [:]) throws(ConfigError)
        -> Routes
    {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw ConfigError("\(name):\(JSONLocator.line(of: error.offset, in: bytes)): not valid JSON (\(error.reason))")
        }
        var reader = Reader(name: name, lines: JSONLocator.lines(of: bytes), directory: directory, environment: environment)
        return try reader.routes(root)
    }
}

private struct Reader {
    let name: String
    let lines: [String: Int]
    let directory: String
    let environment: [String: String]

    func error(_ path: String, _ message: String) -> ConfigError {
        ConfigError("\(name):\(line(path)): \(path.isEmpty ? "" : path + ": ")\(message)")
    }

    /// The line of `path`, or of its nearest ancestor that has one.
    func line(_ path: String) -> Int {
        var current = Substring(path)
        while !current.isEmpty {
            if let line = lines[String(current)] { return line }
            if let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }) { current = current[..<cut] } else { break }
        }
        return lines[""] ?? 1
    }

    func object(_ value: JSONValue, _ path: String, allowed: [String]) throws(ConfigError) -> JSONObject {
        guard let object = value.objectValue else { throw error(path, "must be an object") }
        for key in object.keys where !key.hasPrefix("_") && !allowed.contains(key) {
            throw error(join(path, key), "\"\(key)\" is not known here; use \(allowed.joined(separator: ", "))")
        }
        return object
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func string(_ value: JSONValue?, _ path: String) throws(ConfigError) -> String {
        guard let text = value?.stringValue, !text.isEmpty else { throw error(path, "must be a non-empty string") }
        return text
    }

    func strings(_ value: JSONValue, _ path: String) throws(ConfigError) -> [String] {
        if let single = value.stringValue { return [single] }
        guard let array = value.arrayValue, !array.isEmpty else {
            throw error(path, "must be a string or a non-empty array of strings")
        }
        var result: [String] = []
        for (index, element) in array.enumerated() {
            guard let text = element.stringValue, !text.isEmpty else {
                throw error("\(path)[\(index)]", "must be a non-empty string")
            }
            result.append(text)
        }
        return result
    }

    func seconds(_ value: JSONValue?, _ path: String, default fallback: Double, allowZero: Bool = true) throws(ConfigError)
        -> Double
    {
        guard let value else { return fallback }
        guard let number = value.doubleValue, number >= 0, allowZero || number > 0 else {
            throw error(path, allowZero ? "must be a number of seconds >= 0" : "must be a number of seconds > 0")
        }
        return number
    }

    func resolve(_ path: String) -> String { path.hasPrefix("/") || directory.isEmpty ? path : "\(directory)/\(path)" }

    mutating func routes(_ root: JSONValue) throws(ConfigError) -> Routes {
        let top = try object(
            root, "", allowed: ["defaults", "routes", "departments", "inhibit", "escalation", "smtp", "town_names"])
        var routes = Routes()
        if let defaults = top["defaults"] {
            routes.defaults = try settings(
                object(defaults, "defaults", allowed: Self.settingKeys), "defaults", base: GroupSettings())
        }
        if let names = top["town_names"] {
            for (town, value) in try object(names, "town_names", allowed: (names.objectValue?.keys ?? []))
            where !town.hasPrefix("_") {
                routes.townNames[town] = try string(value, "town_names.\(town)")
            }
        }
        if let smtp = top["smtp"] { routes.smtp = try smtpSettings(smtp) }
        guard let departments = top["departments"] else {
            throw error("", "needs a \"departments\" object (department → channels)")
        }
        let departmentObject = try object(departments, "departments", allowed: departments.objectValue?.keys ?? [])
        for (id, value) in departmentObject where !id.hasPrefix("_") {
            routes.departments[id] = try department(id, value, smtp: routes.smtp)
        }
        guard let list = top["routes"]?.arrayValue, !list.isEmpty else {
            throw error("routes", "needs a non-empty \"routes\" array")
        }
        for (index, value) in list.enumerated() {
            let path = "routes[\(index)]"
            let entry = try object(value, path, allowed: ["match", "to"] + Self.settingKeys)
            let matcher = try self.matcher(entry["match"] ?? .object([:]), "\(path).match")
            guard let toValue = entry["to"] else { throw error(path, "needs \"to\": the departments to notify") }
            let to = try strings(toValue, "\(path).to")
            for (k, department) in to.enumerated() {
                try checkDepartment(department, "\(path).to[\(k)]", in: routes)
            }
            let settings = try settings(entry, path, base: routes.defaults)
            routes.routes.append(Route(line: line(path), matcher: matcher, to: to, settings: settings))
        }
        if let inhibit = top["inhibit"] {
            guard let rules = inhibit.arrayValue else { throw error("inhibit", "must be an array of rules") }
            for (index, value) in rules.enumerated() {
                let path = "inhibit[\(index)]"
                let rule = try object(value, path, allowed: ["source", "target", "equal"])
                guard let source = rule["source"], let target = rule["target"] else {
                    throw error(path, "needs \"source\" and \"target\" matchers")
                }
                let equal = try rule["equal"].map { value throws(ConfigError) in try labels(value, "\(path).equal") } ?? []
                routes.inhibit.append(
                    InhibitRule(
                        source: try matcher(source, "\(path).source"), target: try matcher(target, "\(path).target"), equal: equal
                    ))
            }
        }
        if let escalation = top["escalation"], escalation != .null {
            let entry = try object(escalation, "escalation", allowed: ["severity", "after_seconds", "to"])
            var rule = EscalationRule()
            if let severity = entry["severity"] {
                rule.severities = try strings(severity, "escalation.severity")
                for (k, value) in rule.severities.enumerated() where !["critical", "warning", "info"].contains(value) {
                    throw error("escalation.severity[\(k)]", "must be critical, warning or info")
                }
            }
            rule.afterSeconds = try seconds(entry["after_seconds"], "escalation.after_seconds", default: 900, allowZero: false)
            if let to = entry["to"] { rule.to = try strings(to, "escalation.to") }
            for (k, department) in rule.to.enumerated() {
                guard department != Department.townTemplate else {
                    throw error("escalation.to[\(k)]", "escalations go to named departments, not town:*")
                }
                try checkDepartment(department, "escalation.to[\(k)]", in: routes)
            }
            routes.escalation = rule
        }
        return routes
    }

    static let settingKeys = [
        "group_by", "group_wait_seconds", "group_interval_seconds", "repeat_interval_seconds", "send_resolved",
    ]

    func settings(_ entry: JSONObject, _ path: String, base: GroupSettings) throws(ConfigError) -> GroupSettings {
        var result = base
        if let groupBy = entry["group_by"] { result.groupBy = try labels(groupBy, "\(path).group_by") }
        result.groupWait = try seconds(entry["group_wait_seconds"], "\(path).group_wait_seconds", default: base.groupWait)
        result.groupInterval = try seconds(
            entry["group_interval_seconds"], "\(path).group_interval_seconds", default: base.groupInterval, allowZero: false)
        result.repeatInterval = try seconds(
            entry["repeat_interval_seconds"], "\(path).repeat_interval_seconds", default: base.repeatInterval, allowZero: false)
        if let flag = entry["send_resolved"] {
            guard let value = flag.boolValue else { throw error("\(path).send_resolved", "must be true or false") }
            result.sendResolved = value
        }
        return result
    }

    func labels(_ value: JSONValue, _ path: String) throws(ConfigError) -> [String] {
        guard let array = value.arrayValue else { throw error(path, "must be an array of label names") }
        var result: [String] = []
        for (index, element) in array.enumerated() {
            guard let label = element.stringValue, AlertLabels.names.contains(label) else {
                throw error("\(path)[\(index)]", "must be one of \(AlertLabels.names.joined(separator: ", "))")
            }
            result.append(label)
        }
        return result
    }

    func matcher(_ value: JSONValue, _ path: String) throws(ConfigError) -> Matcher {
        let entry = try object(value, path, allowed: AlertLabels.names)
        var conditions: [(label: String, patterns: [String])] = []
        for (label, patterns) in entry where !label.hasPrefix("_") {
            let list = try strings(patterns, "\(path).\(label)")
            if label == "severity" {
                for (k, severity) in list.enumerated() where !["critical", "warning", "info", "*"].contains(severity) {
                    throw error(
                        "\(path).severity\(patterns.arrayValue == nil ? "" : "[\(k)]")", "must be critical, warning or info")
                }
            }
            conditions.append((label: label, patterns: list))
        }
        return Matcher(conditions)
    }

    func checkDepartment(_ id: String, _ path: String, in routes: Routes) throws(ConfigError) {
        if id == Department.townTemplate || Department.townID(of: id) != nil {
            guard routes.departments[id] != nil || routes.departments[Department.townTemplate] != nil else {
                throw error(path, "\(id) has no entry in \"departments\" (add \"town:*\" with channels templated by {town})")
            }
            return
        }
        guard routes.departments[id] != nil else {
            let known = routes.departments.keys.sorted().joined(separator: ", ")
            throw error(path, "unknown department \"\(id)\"; the departments section has: \(known)")
        }
    }

    func department(_ id: String, _ value: JSONValue, smtp: SMTPSettings?) throws(ConfigError) -> DepartmentConfig {
        let path = "departments.\(id)"
        let entry = try object(value, path, allowed: ["name", "channels"])
        let builtIn = Department.names[id]
        let isTown = id == Department.townTemplate || Department.townID(of: id) != nil
        var name: String
        if let given = entry["name"] {
            name = try string(given, "\(path).name")
        } else if let builtIn {
            name = builtIn
        } else if isTown {
            name = "{town_name}政府"
        } else {
            throw error(
                path,
                "\"\(id)\" is not a department of the plan (\(Department.names.keys.sorted().joined(separator: ", ")), town:<id>, town:*); give it a \"name\""
            )
        }
        if name.isEmpty { name = id }
        guard let list = entry["channels"]?.arrayValue else { throw error(path, "needs \"channels\": an array") }
        var channels: [ChannelConfig] = []
        for (index, channel) in list.enumerated() {
            channels.append(try self.channel(channel, "\(path).channels[\(index)]", smtp: smtp))
        }
        return DepartmentConfig(id: id, name: name, channels: channels)
    }

    func channel(_ value: JSONValue, _ path: String, smtp: SMTPSettings?) throws(ConfigError) -> ChannelConfig {
        guard let type = value["type"]?.stringValue else {
            throw error(path, "needs \"type\": webhook, wecom, email or file")
        }
        func url(_ entry: JSONObject) throws(ConfigError) -> String {
            let url = try string(entry["url"], "\(path).url")
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw error("\(path).url", "must start with http:// or https://")
            }
            return url
        }
        switch type {
        case "webhook":
            let entry = try object(value, path, allowed: ["type", "url", "secret", "secret_env", "timeout_seconds"])
            var secret = try entry["secret"].map { value throws(ConfigError) in try string(value, "\(path).secret") }
            if let variable = entry["secret_env"] {
                let name = try string(variable, "\(path).secret_env")
                guard let fromEnvironment = environment[name], !fromEnvironment.isEmpty else {
                    throw error("\(path).secret_env", "environment variable \(name) is not set")
                }
                secret = fromEnvironment
            }
            return .webhook(
                url: try url(entry), secret: secret,
                timeout: try seconds(entry["timeout_seconds"], "\(path).timeout_seconds", default: 10, allowZero: false))
        case "wecom":
            let entry = try object(value, path, allowed: ["type", "url", "timeout_seconds"])
            return .wecom(
                url: try url(entry),
                timeout: try seconds(entry["timeout_seconds"], "\(path).timeout_seconds", default: 10, allowZero: false))
        case "email":
            let entry = try object(value, path, allowed: ["type", "to"])
            guard smtp != nil else { throw error(path, "e-mail channels need an \"smtp\" section at the top of the file") }
            guard let toValue = entry["to"] else { throw error(path, "needs \"to\": one address or an array of addresses") }
            let to = try strings(toValue, "\(path).to")
            for (k, address) in to.enumerated()
            where !address.contains("@") || address.contains(where: { " <>\r\n".contains($0) }) {
                throw error("\(path).to\(toValue.arrayValue == nil ? "" : "[\(k)]")", "\"\(address)\" is not an e-mail address")
            }
            return .email(to: to)
        case "file":
            let entry = try object(value, path, allowed: ["type", "path"])
            return .file(path: resolve(try string(entry["path"], "\(path).path")))
        default:
            throw error("\(path).type", "\"\(type)\" is not a channel type; use webhook, wecom, email or file")
        }
    }

    func smtpSettings(_ value: JSONValue) throws(ConfigError) -> SMTPSettings {
        let entry = try object(
            value, "smtp",
            allowed: [
                "host", "port", "starttls", "tls_ca", "username", "password", "password_env", "from", "from_name", "helo",
                "timeout_seconds",
            ])
        var settings = SMTPSettings(host: try string(entry["host"], "smtp.host"), from: try string(entry["from"], "smtp.from"))
        if let port = entry["port"] {
            guard let number = port.intValue, (1...65535).contains(number) else {
                throw error("smtp.port", "must be a port number")
            }
            settings.port = Int(number)
        }
        if let mode = entry["starttls"] {
            guard let text = mode.stringValue, let parsed = SMTPSettings.StartTLS(rawValue: text) else {
                throw error("smtp.starttls", "must be auto (when offered), always or never")
            }
            settings.startTLS = parsed
        }
        if let ca = entry["tls_ca"] { settings.tlsCA = resolve(try string(ca, "smtp.tls_ca")) }
        if let user = entry["username"] { settings.username = try string(user, "smtp.username") }
        if let password = entry["password"] { settings.password = try string(password, "smtp.password") }
        if let variable = entry["password_env"] {
            let name = try string(variable, "smtp.password_env")
            guard let value = environment[name] else {
                throw error("smtp.password_env", "environment variable \(name) is not set")
            }
            settings.password = value
        }
        if settings.username != nil, settings.password == nil {
            throw error("smtp", "a username needs a password (or password_env)")
        }
        if let fromName = entry["from_name"] { settings.fromName = try string(fromName, "smtp.from_name") }
        if let helo = entry["helo"] { settings.helo = try string(helo, "smtp.helo") }
        settings.timeout = try seconds(entry["timeout_seconds"], "smtp.timeout_seconds", default: 30, allowZero: false)
        return settings
    }
}
