import DudaoCore

extension ProgressReport {
    /// A self-contained HTML page: summary, city table, changes, town table, and an SVG chart of
    /// each indicator across the years (value bars, target line).
    public func html() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
            th{background:#f3f3f3}.met{color:#1a7f37}.not_met{color:#cf222e;font-weight:bold}.at_risk{color:#9a6700}
            .no_data,.tracked{color:#777}.charts{display:flex;flex-wrap:wrap;gap:1em}.chart{border:1px solid #eee;padding:.5em}
            </style></head><body>
            <h1>\(Self.escape(title))</h1>
            <p>Monthly progress report · generated \(generatedAt.description) · \(counts.map { "\($0.0) \($0.1)" }.joined(separator: " · "))</p>
            <h2>全市指标 <small>City indicators</small></h2>
            <table><tr><th>指标</th><th>Indicator</th><th>数值</th><th>目标</th><th>状态</th><th>条款</th></tr>

            """
        for row in city {
            let unit = row["unit"]?.stringValue ?? ""
            let status = row["status"]?.stringValue ?? ""
            out += "<tr><td>\(Self.escape(row["name_zh"]?.stringValue ?? ""))</td><td>\(Self.escape(row["id"]?.stringValue ?? ""))</td>"
            out += "<td>\(Self.number(row["value"], unit: unit))</td><td>\(Self.escape(Self.target(row)))</td>"
            out += "<td class=\"\(status)\">\(Self.status(row))</td><td>\(Self.escape(row["clause"]?.stringValue ?? ""))</td></tr>\n"
        }
        out += "</table>\n<h2>较上月变化 <small>Changes since last month</small></h2>\n"
        if let changes {
            if changes.isEmpty { out += "<p>无变化 (no change).</p>\n" }
            out += "<ul>\n"
            for change in changes {
                out += "<li>\(Self.escape(change.name)): \(Self.escape(change.before)) → \(Self.escape(change.after))</li>\n"
            }
            out += "</ul>\n"
        } else {
            out += "<p>上月无快照 (no snapshot of the previous month).</p>\n"
        }
        out += "<h2>分镇(街)情况 <small>Town by town</small></h2>\n<table><tr><th>镇(街)</th>"
        let columns = townIndicators
        for column in columns { out += "<th>\(Self.escape(column.name))</th>" }
        out += "</tr>\n"
        for town in towns {
            out += "<tr><td>\(Self.escape(town["name"]?.stringValue ?? ""))</td>"
            let rows = town["indicators"]?.arrayValue ?? []
            for column in columns {
                if let row = rows.first(where: { $0["id"]?.stringValue == column.id }) {
                    let status = row["status"]?.stringValue ?? ""
                    out += "<td class=\"\(status)\">\(Self.number(row["value"], unit: row["unit"]?.stringValue ?? ""))</td>"
                } else {
                    out += "<td>—</td>"
                }
            }
            out += "</tr>\n"
        }
        out += "</table>\n<h2>历年走势 <small>Across the years</small></h2>\n<div class=\"charts\">\n"
        for row in city {
            guard let id = row["id"]?.stringValue else { continue }
            out += chart(row: row, points: historyPoints(id))
        }
        out += "</div>\n</body></html>\n"
        return out
    }

    /// One indicator's bars across the years with its target as a dashed line.
    public func chart(row: JSONValue, points: [Int: JSONValue?]) -> String {
        let years = historyYears
        let width = 260.0
        let height = 140.0
        let left = 40.0
        let bottom = 20.0
        let values = years.map { (points[$0] ?? nil)?.doubleValue }
        let target = row["target"]?.doubleValue
        let top = max((values.compactMap { $0 } + [target ?? 0]).max() ?? 1, 1) * 1.15
        func y(_ v: Double) -> Double { (height - bottom) - (v / top) * (height - bottom - 10) }
        let slot = (width - left) / Double(max(years.count, 1))
        var svg = "<div class=\"chart\"><div>\(Self.escape(row["name_zh"]?.stringValue ?? ""))</div>"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        for (index, year) in years.enumerated() {
            let x = left + Double(index) * slot + slot * 0.2
            if let value = values[index] {
                let barTop = y(value)
                svg += "<rect x=\"\(x)\" y=\"\(barTop)\" width=\"\(slot * 0.6)\" height=\"\(max(0, height - bottom - barTop))\" fill=\"#4e79a7\"/>"
                svg += "<text x=\"\(x)\" y=\"\(barTop - 2)\" font-size=\"9\">\(Self.number(.double(value)))</text>"
            }
            svg += "<text x=\"\(x)\" y=\"\(height - 5)\" font-size=\"10\">\(year)</text>"
        }
        if let target {
            svg += "<line x1=\"\(left)\" y1=\"\(y(target))\" x2=\"\(width)\" y2=\"\(y(target))\" stroke=\"#cf222e\" stroke-dasharray=\"4 3\"/>"
            svg += "<text x=\"2\" y=\"\(y(target) + 3)\" font-size=\"9\" fill=\"#cf222e\">目标 \(Self.number(.double(target)))</text>"
        }
        svg += "</svg></div>\n"
        return svg
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
