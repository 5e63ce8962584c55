import Foundation
import DudaoCore

/// The monthly progress report's content and its Markdown and CSV renderings (HTML in
/// `ProgressReport+HTML.swift`). Chinese names come first; ids stay in English.
public struct ProgressReport: Sendable {
    public var year: Int
    public var month: Int
    /// City results (indicators.evaluate rows).
    public var city: [JSONValue]
    /// `[{town_id, name, indicators: [...]}]`.
    public var towns: [JSONValue]
    /// Last month's snapshot `{city: [...], towns: [...]}`, if one was taken.
    public var previous: JSONValue?
    /// Indicator id → `[{year, value, target, status}]`.
    public var histories: [String: JSONValue]
    public var generatedAt: Timestamp

    public init(
        year: Int, month: Int, city: [JSONValue], towns: [JSONValue], previous: JSONValue?, histories: [String: JSONValue],
        generatedAt: Timestamp
    ) {
        self.year = year
        self.month = month
        self.city = city
        self.towns = towns
        self.previous = previous
        self.histories = histories
        self.generatedAt = generatedAt
    }

    public static let statusNames = ["met": "达标", "not_met": "未达标", "at_risk": "临界", "no_data": "无数据", "tracked": "跟踪"]

    public var title: String { "恩平市“广东省基础教育高质量发展示范区”行动方案监测月报 \(year)年\(month)月" }

    public static func status(_ row: JSONValue) -> String {
        let code = row["status"]?.stringValue ?? "no_data"
        return statusNames[code] ?? code
    }

    public static func number(_ value: JSONValue?, unit: String = "") -> String {
        guard let value, let number = value.doubleValue else { return "—" }
        let text: String
        if number.rounded() == number, abs(number) < 1e12 {
            text = String(Int64(number))
        } else {
            text = String((number * 100).rounded() / 100)
        }
        return unit == "ratio" || unit.isEmpty ? text : text + unit
    }

    public static func target(_ row: JSONValue) -> String {
        guard row["target"]?.doubleValue != nil else { return "—" }
        let op = row["op"]?.stringValue == "<=" ? "≤" : "≥"
        return op + number(row["target"], unit: row["unit"]?.stringValue ?? "")
    }

    /// Status counts over the city results, in a fixed order.
    public var counts: [(String, Int)] {
        ["met", "at_risk", "not_met", "no_data", "tracked"].map { code in
            (Self.statusNames[code]!, city.filter { $0["status"]?.stringValue == code }.count)
        }
    }

    /// What changed since last month's snapshot: `(name, before, after)` per indicator whose
    /// status or value moved.
    public var changes: [(name: String, before: String, after: String)]? {
        guard let previousCity = previous?["city"]?.arrayValue else { return nil }
        var before: [String: JSONValue] = [:]
        for row in previousCity { if let id = row["id"]?.stringValue { before[id] = row } }
        var result: [(String, String, String)] = []
        for row in city {
            guard let id = row["id"]?.stringValue else { continue }
            let unit = row["unit"]?.stringValue ?? ""
            let now = "\(Self.number(row["value"], unit: unit)) \(Self.status(row))"
            guard let old = before[id] else {
                result.append((Self.label(row), "—", now))
                continue
            }
            let then = "\(Self.number(old["value"], unit: unit)) \(Self.status(old))"
            if then != now { result.append((Self.label(row), then, now)) }
        }
        return result
    }

    public static func label(_ row: JSONValue) -> String {
        "\(row["name_zh"]?.stringValue ?? "") (\(row["id"]?.stringValue ?? ""))"
    }

    /// Indicators evaluated per town, in catalog order.
    public var townIndicators: [(id: String, name: String)] {
        guard let first = towns.first?["indicators"]?.arrayValue else { return [] }
        return first.compactMap { row in
            guard let id = row["id"]?.stringValue else { return nil }
            return (id, row["name_zh"]?.stringValue ?? id)
        }
    }

    public func markdown() -> String {
        var out = "# \(title)\n\n"
        out += "Monthly progress report, generated \(generatedAt.description). "
        out += counts.map { "\($0.0) \($0.1)" }.joined(separator: " · ") + "\n\n"
        out += "## 全市指标 City indicators\n\n| 指标 | Indicator | 数值 | 目标 | 状态 | 条款 |\n|---|---|---|---|---|---|\n"
        for row in city {
            let unit = row["unit"]?.stringValue ?? ""
            out += "| \(row["name_zh"]?.stringValue ?? "") | \(row["id"]?.stringValue ?? "") | \(Self.number(row["value"], unit: unit)) "
            out += "| \(Self.target(row)) | \(Self.status(row)) | \(row["clause"]?.stringValue ?? "") |\n"
        }
        out += "\n## 较上月变化 Changes since last month\n\n"
        if let changes {
            if changes.isEmpty { out += "无变化 (no change).\n" }
            for change in changes { out += "- \(change.name): \(change.before) → \(change.after)\n" }
        } else {
            out += "上月无快照 (no snapshot of the previous month).\n"
        }
        out += "\n## 分镇(街)情况 Town by town\n\n"
        let columns = townIndicators
        out += "| 镇(街) | " + columns.map(\.name).joined(separator: " | ") + " |\n"
        out += "|---|" + String(repeating: "---|", count: columns.count) + "\n"
        for town in towns {
            var cells: [String] = []
            let rows = town["indicators"]?.arrayValue ?? []
            for column in columns {
                let row = rows.first { $0["id"]?.stringValue == column.id }
                cells.append(row.map { "\(Self.number($0["value"], unit: $0["unit"]?.stringValue ?? "")) \(Self.status($0))" } ?? "—")
            }
            out += "| \(town["name"]?.stringValue ?? "") | " + cells.joined(separator: " | ") + " |\n"
        }
        out += "\n## 历年走势 Across the years\n\n| 指标 | " + historyYears.map(String.init).joined(separator: " | ") + " |\n"
        out += "|---|" + String(repeating: "---|", count: historyYears.count) + "\n"
        for row in city {
            guard let id = row["id"]?.stringValue else { continue }
            let unit = row["unit"]?.stringValue ?? ""
            let points = historyPoints(id)
            out += "| \(row["name_zh"]?.stringValue ?? id) | "
            out += historyYears.map { year in Self.number(points[year] ?? nil, unit: unit) }.joined(separator: " | ") + " |\n"
        }
        return out
    }

    public func csv() -> String {
        var out = "scope,scope_name,indicator_id,name_zh,name_en,value,unit,op,target,status,clause\n"
        func line(_ scope: String, _ name: String, _ row: JSONValue) -> String {
            let fields = [
                scope, name, row["id"]?.stringValue ?? "", row["name_zh"]?.stringValue ?? "", row["name_en"]?.stringValue ?? "",
                row["value"].map { $0 == .null ? "" : JSONWriter.string($0) } ?? "", row["unit"]?.stringValue ?? "",
                row["op"]?.stringValue ?? "", row["target"].map { $0 == .null ? "" : JSONWriter.string($0) } ?? "",
                row["status"]?.stringValue ?? "", row["clause"]?.stringValue ?? "",
            ]
            return fields.map(Self.csvField).joined(separator: ",") + "\n"
        }
        for row in city { out += line("city", "全市", row) }
        for town in towns {
            let id = town["town_id"]?.stringValue ?? ""
            for row in town["indicators"]?.arrayValue ?? [] { out += line("town:\(id)", town["name"]?.stringValue ?? id, row) }
        }
        return out
    }

    public static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    public var historyYears: [Int] {
        var years = Set<Int>()
        for history in histories.values {
            for point in history.arrayValue ?? [] { if let y = point["year"]?.intValue { years.insert(Int(y)) } }
        }
        return years.sorted()
    }

    /// Year → value for one indicator's city history.
    public func historyPoints(_ id: String) -> [Int: JSONValue?] {
        var points: [Int: JSONValue?] = [:]
        for point in histories[id]?.arrayValue ?? [] {
            if let year = point["year"]?.intValue { points[Int(year)] = point["value"] }
        }
        return points
    }
}
