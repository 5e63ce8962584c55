import DudaoCore
import Foundation

/// What one account may see of a snapshot, in the shape both the templates and `/events` use.
/// Values are the services' own (names, notes): the templates escape them and the browser's
/// script sets them as text only.
enum DashboardView {
    /// `2026-11-29T04:10:36.000Z` → `2026-11-29 12:10:36` (Beijing time).
    static func beijingTime(_ text: String?) -> String { LocalTime.beijing.format(rfc3339: text) }

    /// Today in Beijing (the year and month the pages open on).
    static var today: LocalTime.Parts { LocalTime.beijing.parts(Timestamp.now()) }

    /// Colour class and Chinese text of a rate's status.
    static func status(of rate: JSONValue) -> (css: String, label: String) {
        let value = rate["value"]?.doubleValue
        switch rate["status"]?.stringValue {
        case "met": return ("ok", "达标")
        case "not_met": return ("bad", "未达标")
        case "tracked":
            guard let value else { return ("none", "无数据") }
            return value >= 100 ? ("ok", "全部在线") : ("warn", "有离线")
        default: return ("none", "无数据")
        }
    }

    static func percent(_ value: JSONValue?) -> String {
        guard let number = value?.doubleValue else { return "—" }
        return String(format: "%.1f%%", number)
    }

    /// One row of the rates table: a town or the city.
    static func row(_ body: JSONValue, id: String, name: String) -> JSONValue {
        let rates: [JSONValue] = (body["rates"]?.arrayValue ?? []).map { rate in
            let (css, label) = status(of: rate)
            return [
                "id": .string(rate["id"]?.stringValue ?? ""), "name": .string(rate["name_zh"]?.stringValue ?? ""),
                "value": .string(percent(rate["value"])), "css": .string(css), "label": .string(label),
                "detail": .string("\(rate["numerator"]?.intValue ?? 0)/\(rate["denominator"]?.intValue ?? 0)"),
            ]
        }
        return [
            "town_id": .string(id), "name": .string(name),
            "kindergartens": .int(body["kindergartens"]?.intValue ?? 0),
            "unreported": .int(Int64(body["unreported"]?.arrayValue?.count ?? 0)),
            "open_alarms": .int(body["open_alarms"]?.intValue ?? 0),
            "rates": .array(rates),
        ]
    }

    static func alarm(_ alert: JSONValue) -> JSONValue {
        let details = alert["details"] ?? [:]
        let acked = alert["acked_at"]?.stringValue != nil
        return [
            "alert_id": .string(alert["alert_id"]?.stringValue ?? ""),
            "time": .string(beijingTime(alert["first_at"]?.stringValue)),
            "town_id": .string(alert["town_id"]?.stringValue ?? ""),
            "town": .string(details["town_name"]?.stringValue ?? alert["town_id"]?.stringValue ?? "-"),
            "institution": .string(details["institution_name"]?.stringValue ?? alert["institution_id"]?.stringValue ?? "-"),
            "device": .string(alert["device_id"]?.stringValue ?? "-"),
            "note": .string(details["note"]?.stringValue ?? ""),
            "summary": .string(alert["summary"]?.stringValue ?? ""),
            "acked": .bool(acked),
            "acked_by": .string(alert["acked_by"]?.stringValue ?? ""),
            "acked_at": .string(acked ? beijingTime(alert["acked_at"]?.stringValue) : ""),
        ]
    }

    /// The alarms an account may see (town accounts: their towns'), unacknowledged first.
    static func alarms(_ snapshot: Snapshot, for account: Account) -> [JSONValue] {
        let visible = snapshot.alarms.filter { account.maySee(town: $0["town_id"]?.stringValue) }
        let open = visible.filter { $0["acked_at"]?.stringValue == nil }
        let acked = visible.filter { $0["acked_at"]?.stringValue != nil }
        return (open + acked).map(alarm)
    }

    /// The page's whole model for `account`; `town`: only that town (the town page).
    static func model(_ snapshot: Snapshot, for account: Account, town: String? = nil) -> JSONObject {
        let overview = snapshot.overview
        var towns: [JSONValue] = []
        for body in overview?["towns"]?.arrayValue ?? [] {
            guard let id = body["town_id"]?.stringValue, account.maySee(town: id) else { continue }
            if let town, town != id { continue }
            towns.append(row(body, id: id, name: body["name"]?.stringValue ?? id))
        }
        towns.sort { ($0["town_id"]?.stringValue ?? "") < ($1["town_id"]?.stringValue ?? "") }
        let showCity = account.seesCity && town == nil && overview?["city"] != nil
        var rateNames: [JSONValue] = []
        for rate in (overview?["city"]?["rates"]?.arrayValue ?? []) { rateNames.append(.string(rate["name_zh"]?.stringValue ?? "")) }
        var alarms = Self.alarms(snapshot, for: account)
        if let town { alarms = alarms.filter { $0["town_id"]?.stringValue == town } }
        let open = alarms.filter { $0["acked"]?.boolValue == false }.count
        var model: JSONObject = [
            "as_of": .string(snapshot.fetchedAt.map { LocalTime.beijing.format($0) } ?? "-"),
            "rate_names": .array(rateNames),
            "towns": .array(towns),
            "show_city": .bool(showCity),
            "alarms": .array(alarms),
            "open_alarms": .int(Int64(open)),
            "has_open_alarms": .bool(open > 0),
            "has_alarms": .bool(!alarms.isEmpty),
            "problems": .array(snapshot.problems.map { .string($0) }),
            "version": .int(Int64(snapshot.version)),
        ]
        if showCity, let city = overview?["city"] { model["city"] = row(city, id: "city", name: "全市") }
        return model
    }

    /// A JSON value as swift-mustache reads a context: dictionaries, arrays, strings, numbers.
    static func mustache(_ value: JSONValue) -> Any? {
        switch value {
        case .null: return nil
        case .bool(let b): return b
        case .int(let i): return Int(i)
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.compactMap(mustache)
        case .object(let o): return mustache(o)
        }
    }

    static func mustache(_ object: JSONObject) -> [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in object {
            if let converted = mustache(value) { result[key] = converted }
        }
        return result
    }
}
