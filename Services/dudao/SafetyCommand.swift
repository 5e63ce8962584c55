import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation

/// `dudao safety`: the staff view of `dudao-safety` — the four rates per town, offline and
/// faulty devices, open alarms; `--watch` refreshes it.
struct SafetyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safety",
        abstract: "Show safety compliance per town, offline devices and open alarms (dudao-safety; --port defaults to 7403 here).")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Only this scope: town:<id> (default: the whole city, every town).")
    var scope: String?

    @Flag(help: "Refresh until interrupted.")
    var watch = false

    @Option(help: "Seconds between refreshes with --watch.")
    var interval: Double = 5

    @Option(help: "Most devices and alarms listed (default 20 on screen, 100000 with --xlsx).")
    var limit: Int?

    @Option(help: "Write the lists to this Excel workbook (镇街合规, 设备, 未关闭报警) instead of printing them.")
    var xlsx: String?

    func run() async throws {
        var options = connection
        // The shared default is the ingest's port; this command talks to dudao-safety.
        if options.port == 7401 { options.port = 7403 }
        guard interval > 0 else { throw ValidationError("--interval must be above 0") }
        if let xlsx {
            guard !watch else { throw ValidationError("--xlsx writes one workbook; leave out --watch") }
            let client = try await options.connect(service: "dudao-safety")
            let lists: SafetyLists
            do {
                lists = try await fetch(client, limit: limit ?? 100_000)
            } catch {
                await client.close()
                throw error
            }
            await client.close()
            try SafetyWorkbook.write(lists, scope: scope, to: xlsx)
            print("wrote \(xlsx)")
            return
        }
        if !watch {
            let client = try await options.connect(service: "dudao-safety")
            let text: String
            do {
                text = try await render(client, options: options)
            } catch {
                await client.close()
                throw error
            }
            await client.close()
            print(text, terminator: "")
            return
        }
        var client: WireClient?
        while true {
            do {
                let connected: WireClient
                if let client { connected = client } else { connected = try await options.connect(service: "dudao-safety") }
                client = connected
                let text = try await render(connected, options: options)
                print("\u{1B}[H\u{1B}[2J" + text, terminator: "")
                fflush(nil)
            } catch {
                if let stale = client { await stale.close() }
                client = nil
                print("\u{1B}[H\u{1B}[2Jdudao-safety \(options.host):\(options.port): \(error) (retrying)")
            }
            try await Task.sleep(for: .seconds(interval))
        }
    }

    func query(_ client: WireClient, _ type: String, _ body: JSONObject) async throws -> JSONValue {
        do {
            return try await client.query(type, body: .object(body))
        } catch let refused as QueryRefused {
            throw ValidationError(refused.description)
        }
    }

    /// The three answers a view is made of.
    struct SafetyLists {
        var overview: JSONValue
        var devices: JSONValue
        var alarms: JSONValue
    }

    func fetch(_ client: WireClient, limit: Int) async throws -> SafetyLists {
        var scoped: JSONObject = [:]
        if let scope { scoped["scope"] = .string(scope) }
        let overview = try await query(client, "safety.overview", [:])
        var devicesQuery = scoped
        devicesQuery["limit"] = .int(Int64(limit))
        let devices = try await query(client, "safety.devices", devicesQuery)
        let alarms = try await query(client, "safety.alarms", scoped)
        return SafetyLists(overview: overview, devices: devices, alarms: alarms)
    }

    func render(_ client: WireClient, options: ConnectionOptions) async throws -> String {
        let limit = self.limit ?? 20
        let lists = try await fetch(client, limit: limit)
        let overview = lists.overview, devices = lists.devices, alarms = lists.alarms

        var out = "dudao-safety \(options.host):\(options.port)  \(SafetyTable.chinaTime(overview["as_of"]?.stringValue))（北京时间）\n\n"
        let header = ["镇街", "幼儿园", "未报送", "一键报警", "视频联网", "封闭管理", "专职保安", "报警在线"]
        var rows: [[String]] = []
        for town in overview["towns"]?.arrayValue ?? [] {
            if let scope, scope != "town:\(town["town_id"]?.stringValue ?? "")" { continue }
            rows.append(SafetyTable.row(name: town["name"]?.stringValue ?? "?", town))
        }
        if scope == nil, let city = overview["city"] { rows.append(SafetyTable.row(name: "全市", city)) }
        out += SafetyTable.format(header: header, rows: rows, rightAligned: 1...)
        out += "（四项指标目标均为 100%；未报送台账的幼儿园计为不达标）\n\n"

        let listed = devices["devices"]?.arrayValue ?? []
        var figures = overview["city"]
        if let scope {
            figures = overview["towns"]?.arrayValue?.first { "town:\($0["town_id"]?.stringValue ?? "")" == scope } ?? figures
        }
        func count(_ name: String) -> Int64 { figures?[name]?.intValue ?? 0 }
        out += "设备 \(count("devices")) 台：离线 \(count("devices_offline"))，故障 \(count("devices_fault"))，"
        out += "台账登记但从未上报 \(count("devices_never_seen"))；一键报警在线 \(count("alarms_online"))/\(count("alarm_devices"))\n"
        if !listed.isEmpty {
            let deviceRows: [[String]] = listed.map { device in
                [
                    SafetyTable.stateZh(device["state"]?.stringValue), device["device_id"]?.stringValue ?? "",
                    device["town_name"]?.stringValue ?? "", device["institution_name"]?.stringValue ?? "",
                    SafetyTable.chinaTime(device["last_seen"]?.stringValue),
                ]
            }
            out += SafetyTable.format(header: ["状态", "设备", "镇街", "机构", "最后心跳"], rows: deviceRows, indent: "  ")
        }
        let openAlarms = alarms["open"]?.arrayValue ?? []
        out += "\n未关闭报警 \(alarms["count"]?.intValue ?? 0) 条\n"
        if !openAlarms.isEmpty {
            let alarmRows: [[String]] = openAlarms.prefix(limit).map { alarm in
                [
                    SafetyTable.chinaTime(alarm["at"]?.stringValue), alarm["town_name"]?.stringValue ?? "",
                    alarm["institution_name"]?.stringValue ?? "", alarm["device_id"]?.stringValue ?? "", alarm["note"]?.stringValue ?? "",
                ]
            }
            out += SafetyTable.format(header: ["报警时间", "镇街", "机构", "设备", "备注"], rows: alarmRows, indent: "  ")
        }
        return out
    }
}

/// Plain-text tables that line up with Chinese text (CJK characters take two columns).
enum SafetyTable {
    static func row(name: String, _ figures: JSONValue) -> [String] {
        var cells = [
            name, String(figures["kindergartens"]?.intValue ?? 0), String(figures["unreported"]?.arrayValue?.count ?? 0),
        ]
        for rate in figures["rates"]?.arrayValue ?? [] {
            guard let value = rate["value"]?.doubleValue else {
                cells.append("—")
                continue
            }
            cells.append(String(format: "%.1f%%", value))
        }
        return cells
    }

    static func stateZh(_ state: String?) -> String {
        switch state {
        case "offline": "离线"
        case "fault": "故障"
        case "never_seen": "从未上报"
        case "retired": "已移出台账"
        case "online": "在线"
        default: state ?? ""
        }
    }

    /// `2026-11-29 08:00:00` in UTC+8 from an RFC 3339 time; `—` when absent.
    static func chinaTime(_ text: String?) -> String { LocalTime.beijing.format(rfc3339: text, absent: "—") }

    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            let v = scalar.value
            let wide =
                (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || v >= 0x20000 || v == 0x2014
            return total + (wide ? 2 : 1)
        }
    }

    static func pad(_ text: String, to columns: Int, right: Bool) -> String {
        let fill = String(repeating: " ", count: max(0, columns - width(text)))
        return right ? fill + text : text + fill
    }

    static func format(header: [String], rows: [[String]], rightAligned: PartialRangeFrom<Int>? = nil, indent: String = "") -> String {
        var widths = header.map(width)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], width(cell)) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { i, cell in
                pad(cell, to: i < widths.count ? widths[i] : 0, right: rightAligned?.contains(i) ?? false)
            }
            return indent + padded.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }
        return ([line(header)] + rows.map(line)).joined()
    }
}
