import DudaoCore

extension ReadinessReport {
    /// A self-contained page: per catalog, the criteria met out of those judged, a table of
    /// every criterion with its gap, a chart of each criterion town by town against its target,
    /// and for each miss the towns and institutions that make it.
    public func html() -> String {
        let escape = ProgressReport.escape
        var out = """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
            th{background:#f3f3f3}.met{color:#1a7f37}.not_met{color:#cf222e;font-weight:bold}.at_risk{color:#9a6700}
            .no_data,.tracked{color:#777}.charts{display:flex;flex-wrap:wrap;gap:1em}.chart{border:1px solid #eee;padding:.5em}
            .tally{font-size:1.3em}.miss{margin:.5em 0 1em 0}
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p>Assessment readiness · generated \(generatedAt.description)</p>

            """
        if !forecastLines.isEmpty {
            out += "<h2>明年预测 <small>Forecast</small></h2>\n<ul>\n" + forecastLines.map { "<li>\(escape($0))</li>\n" }.joined() + "</ul>\n"
        }
        if !reports.isEmpty {
            out += "<h2>数据报送情况 <small>Reports owed</small></h2>\n<table><tr><th>报表</th><th>应报</th><th>已报</th><th>逾期</th><th>缺报</th><th>报送率</th><th>缺报单位</th></tr>\n"
            for feed in reports {
                let missing = Self.missingLines(feed)
                out += "<tr><td>\(escape(feed["title_zh"]?.stringValue ?? ""))</td><td>\(feed["expected"]?.intValue ?? 0)</td>"
                out += "<td>\(feed["sent"]?.intValue ?? 0)</td><td>\(feed["late"]?.intValue ?? 0)</td>"
                out += "<td class=\"\(missing.isEmpty ? "met" : "not_met")\">\(feed["missing"]?.intValue ?? 0)</td>"
                out += "<td>\(ProgressReport.number(feed["reporting_rate"], unit: "%"))</td><td>\(escape(missing.joined(separator: "；")))</td></tr>\n"
            }
            out += "</table>\n"
        }
        for catalog in catalogs {
            let criteria = catalog["criteria"]?.arrayValue ?? []
            out += "<h2>\(escape(catalog["title_zh"]?.stringValue ?? ""))<small> \(escape(catalog["name"]?.stringValue ?? ""))</small></h2>\n"
            out += "<p class=\"tally\">\(escape(Self.tally(catalog)))</p>\n"
            out += "<table><tr><th>指标</th><th>Indicator</th><th>数值</th><th>目标</th><th>状态</th><th>差距</th><th>未达标镇（街）</th></tr>\n"
            for row in criteria {
                let unit = row["unit"]?.stringValue ?? ""
                let status = row["status"]?.stringValue ?? ""
                let missed = (row["towns"]?.arrayValue ?? []).filter { $0["status"] == "not_met" }.count
                out += "<tr><td>\(escape(row["name_zh"]?.stringValue ?? ""))</td><td>\(escape(row["id"]?.stringValue ?? ""))</td>"
                out += "<td>\(ProgressReport.number(row["value"], unit: unit))</td><td>\(escape(ProgressReport.target(row)))</td>"
                out += "<td class=\"\(status)\">\(ProgressReport.status(row))</td><td>\(escape(Self.gap(row)))</td>"
                out += "<td>\(row["towns"]?.arrayValue?.isEmpty == false ? String(missed) : "—")</td></tr>\n"
            }
            out += "</table>\n"
            for row in criteria where row["status"] == "not_met" {
                out += "<div class=\"miss\"><h3>\(escape(row["name_zh"]?.stringValue ?? ""))：\(escape(Self.gap(row)))</h3>\n"
                let towns = (row["towns"]?.arrayValue ?? []).filter { $0["status"] == "not_met" }
                if !towns.isEmpty {
                    out += "<p>未达标镇（街）："
                    out += towns.map { escape("\($0["name"]?.stringValue ?? "")（\(Self.gap($0))）") }.joined(separator: "；")
                    out += "</p>\n"
                }
                let institutions = row["institutions"]?.arrayValue ?? []
                if !institutions.isEmpty {
                    out += "<p>造成差距的单位：" + institutions.map { escape(Self.institution($0, unit: row["unit"]?.stringValue ?? "")) }.joined(separator: "；") + "</p>\n"
                }
                out += "</div>\n"
            }
            let charted = criteria.filter { $0["towns"]?.arrayValue?.isEmpty == false }
            if !charted.isEmpty {
                out += "<h3>分镇（街）对照目标 <small>Town by town against the target</small></h3>\n<div class=\"charts\">\n"
                for row in charted { out += chart(row) }
                out += "</div>\n"
            }
        }
        out += "</body></html>\n"
        return out
    }

    /// One criterion's town values as bars (red when missed) with the target as a dashed line.
    public func chart(_ row: JSONValue) -> String {
        let escape = ProgressReport.escape
        let towns = row["towns"]?.arrayValue ?? []
        let slot = 34.0
        let left = 40.0
        let bottom = 46.0
        let height = 190.0
        let width = left + slot * Double(max(towns.count, 1)) + 10
        let target = row["target"]?.doubleValue
        let values = towns.map { $0["value"]?.doubleValue }
        let top = max((values.compactMap { $0 } + [target ?? 0]).max() ?? 1, 1) * 1.15
        func y(_ v: Double) -> Double { (height - bottom) - (v / top) * (height - bottom - 12) }
        var svg = "<div class=\"chart\"><div>\(escape(row["name_zh"]?.stringValue ?? ""))</div>"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        for (index, town) in towns.enumerated() {
            let x = left + Double(index) * slot + slot * 0.15
            if let value = values[index] {
                let barTop = y(value)
                let colour = town["status"] == "not_met" ? "#cf222e" : "#4e79a7"
                svg += "<rect x=\"\(x)\" y=\"\(barTop)\" width=\"\(slot * 0.7)\" height=\"\(max(0, height - bottom - barTop))\" fill=\"\(colour)\"/>"
                svg += "<text x=\"\(x)\" y=\"\(barTop - 2)\" font-size=\"8\">\(ProgressReport.number(.double(value)))</text>"
            }
            let name = escape(town["name"]?.stringValue ?? "")
            svg += "<text x=\"\(x + 4)\" y=\"\(height - bottom + 10)\" font-size=\"9\" writing-mode=\"tb\">\(name)</text>"
        }
        if let target {
            svg += "<line x1=\"\(left)\" y1=\"\(y(target))\" x2=\"\(width)\" y2=\"\(y(target))\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"/>"
            svg += "<text x=\"2\" y=\"\(y(target) + 3)\" font-size=\"9\" fill=\"#cf222e\">目标 \(ProgressReport.number(.double(target)))</text>"
        }
        svg += "</svg></div>\n"
        return svg
    }
}
