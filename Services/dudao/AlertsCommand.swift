import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation

/// `dudao alerts ...`: the alerts of `dudao-notify` (port 7404 unless `--port` says otherwise).
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List, acknowledge and silence alerts; inspect and re-drive failed deliveries (dudao-notify).",
        subcommands: [
            AlertsList.self, AlertsAck.self, AlertsFailed.self, AlertsRedrive.self, AlertsSilence.self, AlertsStatus.self,
        ])

    /// Sends one query to dudao-notify and returns the result body; a nack is printed and exits 1.
    static func ask(_ connection: ConnectionOptions, _ type: String, _ body: JSONObject) async throws -> JSONValue {
        var options = connection
        // ConnectionOptions defaults to the ingest port; the alerts live on dudao-notify's.
        if options.port == 7401 { options.port = 7404 }
        let client = try await options.connect(service: "dudao-notify")
        let reply = try await client.request(Frame.query(type, id: "alerts-cli", body: .object(body)))
        await client.close()
        let answer = Answer(reply)
        guard case .result(_, let result) = answer else {
            FileHandle.standardError.write(Data("dudao alerts: \(answer.refusal.map { "\($0)" } ?? JSONWriter.string(reply))\n".utf8))
            throw ExitCode(1)
        }
        return result
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let s)?: s
        case .none, .null?: "-"
        case let other?: JSONWriter.string(other)
        }
    }

    /// `2026-11-29T08:00:00.000Z` → `11-29 08:00:00Z`, short enough for a table.
    static func shortTime(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue, text.count >= 19 else { return "-" }
        let start = text.index(text.startIndex, offsetBy: 5)
        let end = text.index(text.startIndex, offsetBy: 19)
        return text[start..<end].replacingOccurrences(of: "T", with: " ") + "Z"
    }
}

struct AlertsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List alerts (alerts.list).")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "firing, resolved or all.")
    var status: String = "firing"

    @Option(help: "Only alerts routed to this department (police, education, town:dongcheng, ...).")
    var department: String?

    @Option(help: "At most this many, newest first.")
    var limit: Int = 100

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        var body: JSONObject = ["status": .string(status), "limit": .int(Int64(limit))]
        if let department { body["department"] = .string(department) }
        let result = try await AlertsCommand.ask(connection, "alerts.list", body)
        if json {
            print(JSONWriter.string(result))
            return
        }
        let alerts = result["alerts"]?.arrayValue ?? []
        print("ALERT_ID\tSEVERITY\tSTATUS\tSINCE\tACKED_BY\tDEPARTMENTS\tSUMMARY")
        for alert in alerts {
            let departments = (alert["departments"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            var status = AlertsCommand.text(alert["status"])
            if alert["silenced_by"]?.stringValue != nil { status += "(silenced)" }
            print(
                [
                    AlertsCommand.text(alert["alert_id"]), AlertsCommand.text(alert["severity"]), status,
                    AlertsCommand.shortTime(alert["first_at"]), AlertsCommand.text(alert["acked_by"]), departments,
                    AlertsCommand.text(alert["summary"]),
                ].joined(separator: "\t"))
        }
        print("\(alerts.count) alert(s)")
    }
}

struct AlertsAck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack", abstract: "Acknowledge an alert: no more repeats, no escalation (alerts.ack).")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The alert id (or its first 6+ characters).")
    var id: String

    @Option(help: "Who acknowledges (default: the identity connecting).")
    var by: String?

    func run() async throws {
        var body: JSONObject = ["alert_id": .string(id)]
        if let by { body["by"] = .string(by) }
        let result = try await AlertsCommand.ask(connection, "alerts.ack", body)
        let alert = result["alert"] ?? [:]
        let already = result["already_acked"]?.boolValue == true
        print(
            "\(already ? "already acknowledged" : "acknowledged") \(AlertsCommand.text(alert["alert_id"])) by "
                + "\(AlertsCommand.text(alert["acked_by"])) at \(AlertsCommand.text(alert["acked_at"])): \(AlertsCommand.text(alert["summary"]))"
        )
    }
}

struct AlertsFailed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failed", abstract: "List deliveries that gave up (the dead letters, alerts.failed).")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "At most this many, newest first.")
    var limit: Int = 100

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let result = try await AlertsCommand.ask(connection, "alerts.failed", ["limit": .int(Int64(limit))])
        if json {
            print(JSONWriter.string(result))
            return
        }
        let deliveries = result["deliveries"]?.arrayValue ?? []
        print("DELIVERY_ID\tDEPARTMENT\tATTEMPTS\tFAILED_AT\tTARGET\tALERTS\tLAST_ERROR")
        for delivery in deliveries {
            let alerts = (delivery["alert_ids"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")
            print(
                [
                    AlertsCommand.text(delivery["delivery_id"]), AlertsCommand.text(delivery["department"]),
                    AlertsCommand.text(delivery["attempts"]), AlertsCommand.shortTime(delivery["failed_at"]),
                    AlertsCommand.text(delivery["target"]), alerts, AlertsCommand.text(delivery["last_error"]),
                ].joined(separator: "\t"))
        }
        print("\(deliveries.count) failed deliver\(deliveries.count == 1 ? "y" : "ies")")
    }
}

struct AlertsRedrive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redrive", abstract: "Queue dead letters again: all, those of one alert, or one delivery (alerts.redrive).")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "Only the deliveries of this alert.")
    var id: String?

    @Option(help: "Only this delivery.")
    var delivery: String?

    func run() async throws {
        var body: JSONObject = [:]
        if let id { body["alert_id"] = .string(id) }
        if let delivery { body["delivery_id"] = .string(delivery) }
        let result = try await AlertsCommand.ask(connection, "alerts.redrive", body)
        let count = result["redriven"]?.intValue ?? 0
        print("redriven \(count) deliver\(count == 1 ? "y" : "ies")")
    }
}

struct AlertsStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Counts of alerts and deliveries (notify.status).")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        print(JSONWriter.string(try await AlertsCommand.ask(connection, "notify.status", [:])))
    }
}

struct AlertsSilence: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence", abstract: "Silence alerts for a while (maintenance, the quarterly live test agreed with 110).",
        subcommands: [AlertsSilenceAdd.self, AlertsSilenceList.self, AlertsSilenceExpire.self])
}

struct AlertsSilenceAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a silence: alerts matching every --match are not notified until it ends.",
        discussion: """
            Labels: event, severity, scope, town, institution, device, indicator, alert_key. Patterns are exact values, \
            prefixes ending in * (safety.*), or * alone. Example, the quarterly live test of one town's one-key alarms:
              dudao alerts silence add --match town=dongcheng --match event='safety.*' --for 2h --comment "110 联调测试"
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .customLong("match"), help: "label=pattern (repeat for more; the same label twice means either).")
    var matches: [String] = []

    @Option(help: "End time, RFC 3339 (e.g. 2026-12-01T18:00:00+08:00).")
    var until: String?

    @Option(name: .customLong("for"), help: "Duration instead of --until: 90s, 30m, 2h, 1d.")
    var duration: String?

    @Option(help: "Why (shown in silences.list).")
    var comment: String = ""

    func run() async throws {
        var grouped: [(String, [String])] = []
        for match in matches {
            guard let equals = match.firstIndex(of: "="), equals != match.startIndex else {
                throw ValidationError("--match takes label=pattern, e.g. town=dongcheng")
            }
            let label = String(match[..<equals])
            let pattern = String(match[match.index(after: equals)...])
            if let index = grouped.firstIndex(where: { $0.0 == label }) {
                grouped[index].1.append(pattern)
            } else {
                grouped.append((label, [pattern]))
            }
        }
        guard !grouped.isEmpty else { throw ValidationError("give at least one --match label=pattern") }
        var matchers = JSONObject()
        for (label, patterns) in grouped {
            matchers[label] = patterns.count == 1 ? .string(patterns[0]) : .array(patterns.map { .string($0) })
        }
        var body: JSONObject = ["matchers": .object(matchers), "comment": .string(comment)]
        if let until {
            body["until"] = .string(until)
        } else if let duration {
            guard let seconds = Self.seconds(duration) else { throw ValidationError("--for takes 90s, 30m, 2h or 1d") }
            body["duration_seconds"] = .double(seconds)
        } else {
            throw ValidationError("give --until TIME or --for DURATION")
        }
        let result = try await AlertsCommand.ask(connection, "silences.add", body)
        let silence = result["silence"] ?? [:]
        print(
            "silence \(AlertsCommand.text(silence["silence_id"])) until \(AlertsCommand.text(silence["ends_at"])): \(JSONWriter.string(silence["matchers"] ?? [:]))"
        )
    }

    static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let number = Double(text.dropLast()), number > 0 else { return Double(text) }
        switch unit {
        case "s": return number
        case "m": return number * 60
        case "h": return number * 3600
        case "d": return number * 86400
        default: return nil
        }
    }
}

struct AlertsSilenceList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List silences (silences.list).")

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Also the silences that have ended.")
    var all = false

    func run() async throws {
        let result = try await AlertsCommand.ask(connection, "silences.list", ["all": .bool(all)])
        let silences = result["silences"]?.arrayValue ?? []
        print("SILENCE_ID\tACTIVE\tSTARTS\tENDS\tBY\tMATCHERS\tCOMMENT")
        for silence in silences {
            print(
                [
                    AlertsCommand.text(silence["silence_id"]), AlertsCommand.text(silence["active"]),
                    AlertsCommand.shortTime(silence["starts_at"]), AlertsCommand.shortTime(silence["ends_at"]),
                    AlertsCommand.text(silence["created_by"]), JSONWriter.string(silence["matchers"] ?? [:]),
                    AlertsCommand.text(silence["comment"]),
                ].joined(separator: "\t"))
        }
        print("\(silences.count) silence(s)")
    }
}

struct AlertsSilenceExpire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "expire", abstract: "End a silence now (silences.expire).")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The silence id.")
    var id: String

    func run() async throws {
        let result = try await AlertsCommand.ask(connection, "silences.expire", ["silence_id": .string(id)])
        print(
            "silence \(AlertsCommand.text(result["silence"]?["silence_id"])) ended at \(AlertsCommand.text(result["silence"]?["ends_at"]))"
        )
    }
}
