import DudaoCore

/// Will the county pass its assessment? For each catalog (the national criteria, the plan's),
/// every criterion met or not for the city and each town, the gap in things to do, and the
/// institutions that make it — from `indicators.readiness`. Markdown and CSV here, HTML with
/// charts in `ReadinessReport+HTML.swift`. Chinese first; ids stay in English.
public struct ReadinessReport: Sendable {
    public var year: Int
    /// `indicators.readiness`'s `catalogs`.
    public var catalogs: [JSONValue]
    /// `indicators.completeness`'s `feeds`: who has sent the reports the criteria are computed from.
    public var reports: [JSONValue]
    /// `indicators.forecast` of the next year, if asked.
    public var forecast: JSONValue?
    public var generatedAt: Timestamp

    public init(year: Int, catalogs: [JSONValue], reports: [JSONValue] = [], forecast: JSONValue? = nil, generatedAt: Timestamp) {
        self.year = year
        self.catalogs = catalogs
        self.reports = reports
        self.forecast = forecast
        self.generatedAt = generatedAt
    }

    /// Asks `dudao-indicators` for the readiness of `year`; `catalog` nil = every catalog loaded.
    public static func fetch(year: Int, catalog: String?, ask: ProgressReport.Ask) async throws -> ReadinessReport {
        var body: JSONObject = ["year": .int(Int64(year))]
        if let catalog { body["catalog"] = .string(catalog) }
        let answer = try await ask("indicators.readiness", .object(body))
        let completeness = try await ask("indicators.completeness", ["year": .int(Int64(year))])
        let forecast = try await ask("indicators.forecast", ["year": .int(Int64(year + 1))])
        return ReadinessReport(
            year: year, catalogs: answer["catalogs"]?.arrayValue ?? [], reports: completeness["feeds"]?.arrayValue ?? [],
            forecast: forecast, generatedAt: Timestamp.now())
    }

    /// The forecast's lines: `学前三年毛入园率（2026年预测）：按期完工 103.5%（达标，目标 ≥100%）；如项目均未完工 98.2%（未达标）`,
    /// then the projects behind schedule.
    public var forecastLines: [String] {
        guard let forecast, let next = forecast["year"]?.intValue else { return [] }
        var lines: [String] = []
        let pending = forecast["seats_pending"]?.intValue ?? 0
        lines.append("\(next)年预测：在建公办幼儿园学位 \(pending) 个如期交付（基于 \(forecast["base_year"]?.intValue ?? 0) 年数据）")
        let shown = Set(catalogs.compactMap { $0["name"]?.stringValue })
        for row in forecast["indicators"]?.arrayValue ?? [] where shown.contains(row["catalog"]?.stringValue ?? "") {
            let unit = row["unit"]?.stringValue ?? ""
            let status = { (code: JSONValue?) in ProgressReport.statusNames[code?.stringValue ?? ""] ?? "—" }
            lines.append(
                "\(row["name_zh"]?.stringValue ?? "")：按期完工 \(ProgressReport.number(row["projected"], unit: unit))（\(status(row["projected_status"]))，目标 "
                    + "\(ProgressReport.target(row))）；如均未完工 \(ProgressReport.number(row["without_projects"], unit: unit))（\(status(row["without_projects_status"]))）")
        }
        for project in forecast["projects_behind"]?.arrayValue ?? [] {
            lines.append(
                "滞后项目：\(project["name"]?.stringValue ?? "")（截止 \(project["due"]?.stringValue ?? "")，已交付 "
                    + "\(project["seats_delivered"]?.intValue ?? 0)/\(project["seats_planned"]?.intValue ?? 0)）")
        }
        return lines
    }

    /// `幼儿园普查：应报 80，已报 77（逾期 2），缺报 3，报送率 96.25%`.
    public static func reportLine(_ feed: JSONValue) -> String {
        let rate = ProgressReport.number(feed["reporting_rate"], unit: "%")
        return "\(feed["title_zh"]?.stringValue ?? "")：应报 \(feed["expected"]?.intValue ?? 0)，已报 \(feed["sent"]?.intValue ?? 0)"
            + "（逾期 \(feed["late"]?.intValue ?? 0)），缺报 \(feed["missing"]?.intValue ?? 0)，报送率 \(rate)"
    }

    /// The towns with reports missing: `恩城街道 缺 1（恩平市小博士幼儿园）`.
    public static func missingLines(_ feed: JSONValue) -> [String] {
        (feed["towns"]?.arrayValue ?? []).filter { ($0["missing"]?.intValue ?? 0) > 0 }.map { town in
            let names = (town["missing_institutions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            return "\(town["name"]?.stringValue ?? "") 缺 \(town["missing"]?.intValue ?? 0)（\(names.joined(separator: "、"))）"
        }
    }

    public var title: String { "恩平市学前教育普及普惠评估准备情况 \(year)年" }

    /// `达标 7 / 9 项`: criteria met (or met within the margin) of those judged.
    public static func tally(_ catalog: JSONValue) -> String {
        "达标 \(catalog["met"]?.intValue ?? 0) / \(catalog["judged"]?.intValue ?? 0) 项"
    }

    /// The gap sentence, or what the status says when there is none.
    public static func gap(_ row: JSONValue) -> String {
        if let text = row["gap"]?["zh"]?.stringValue { return text }
        switch row["status"]?.stringValue {
        case "not_met": return "未达标"
        case "no_data": return "缺少数据"
        case "tracked": return "不设数值目标"
        default: return "—"
        }
    }

    /// What an institution row (a contributor) says, shortest first: its name, its value.
    public static func institution(_ row: JSONValue, unit: String = "") -> String {
        let name = row["name"]?.stringValue ?? row["institution_id"]?.stringValue ?? row["town_id"]?.stringValue ?? "?"
        var parts: [String] = []
        if let id = row["institution_id"]?.stringValue, id != name { parts.append(id) }
        if let value = row["value"], value != .null { parts.append(ProgressReport.number(value, unit: unit)) }
        if let reason = row["reason"]?.stringValue { parts.append(reason) }
        return parts.isEmpty ? name : "\(name)（\(parts.joined(separator: "，"))）"
    }

    public func markdown() -> String {
        var out = "# \(title)\n\n生成时间 \(generatedAt.description)\n"
        if !forecastLines.isEmpty {
            out += "\n## 明年预测\n\n" + forecastLines.map { "- \($0)\n" }.joined()
        }
        if !reports.isEmpty {
            out += "\n## 数据报送情况\n\n"
            for feed in reports {
                out += "- \(Self.reportLine(feed))\n"
                for line in Self.missingLines(feed) { out += "  - \(line)\n" }
            }
        }
        for catalog in catalogs {
            out += "\n## \(catalog["title_zh"]?.stringValue ?? "")（\(catalog["name"]?.stringValue ?? "")）：\(Self.tally(catalog))\n\n"
            out += "| 指标 | 数值 | 目标 | 状态 | 差距 |\n|---|---|---|---|---|\n"
            for row in catalog["criteria"]?.arrayValue ?? [] {
                let unit = row["unit"]?.stringValue ?? ""
                out += "| \(row["name_zh"]?.stringValue ?? "") | \(ProgressReport.number(row["value"], unit: unit)) | "
                out += "\(ProgressReport.target(row)) | \(ProgressReport.status(row)) | \(Self.gap(row)) |\n"
            }
            for row in catalog["criteria"]?.arrayValue ?? [] where row["status"] == "not_met" {
                out += "\n### \(row["name_zh"]?.stringValue ?? "")：\(Self.gap(row))\n\n"
                let towns = (row["towns"]?.arrayValue ?? []).filter { $0["status"] == "not_met" }
                if !towns.isEmpty {
                    out += "未达标镇（街）：" + towns.map { "\($0["name"]?.stringValue ?? "")（\(Self.gap($0))）" }.joined(separator: "；") + "\n\n"
                }
                let institutions = row["institutions"]?.arrayValue ?? []
                if !institutions.isEmpty {
                    out += "造成差距的单位：" + institutions.map { Self.institution($0, unit: row["unit"]?.stringValue ?? "") }.joined(separator: "；") + "\n"
                }
            }
        }
        return out
    }

    /// One line per criterion and scope (city, then each town): catalog, scope, indicator, value,
    /// target, status, gap.
    public func csv() -> String {
        var out = "目录,catalog,范围,scope,指标,indicator,数值,目标,状态,status,差距,gap_amount\n"
        func field(_ text: String) -> String {
            text.contains(",") || text.contains("\"") || text.contains("\n") ? "\"" + text.replacing("\"", with: "\"\"") + "\"" : text
        }
        for catalog in catalogs {
            let name = catalog["name"]?.stringValue ?? ""
            let title = catalog["title_zh"]?.stringValue ?? name
            for row in catalog["criteria"]?.arrayValue ?? [] {
                let unit = row["unit"]?.stringValue ?? ""
                var lines: [(String, String, JSONValue)] = [("全市", "city", row)]
                for town in row["towns"]?.arrayValue ?? [] {
                    lines.append((town["name"]?.stringValue ?? "", "town:" + (town["town_id"]?.stringValue ?? ""), town))
                }
                for (place, scope, line) in lines {
                    let cells = [
                        title, name, place, scope, row["name_zh"]?.stringValue ?? "", row["id"]?.stringValue ?? "",
                        ProgressReport.number(line["value"], unit: unit), ProgressReport.target(row), ProgressReport.status(line),
                        line["status"]?.stringValue ?? "", Self.gap(line), line["gap"]?["amount"]?.intValue.map { String($0) } ?? "",
                    ]
                    out += cells.map(field).joined(separator: ",") + "\n"
                }
            }
        }
        return out
    }

    /// The CSV with a UTF-8 byte-order mark first, for Excel.
    public func csvWithByteOrderMark() -> String { "\u{FEFF}" + csv() }
}
