import DudaoCore
import DudaoReport
import Foundation

/// The indicator pages: the plan's indicators at one scope, one indicator's history chart and
/// what pulls it down.
enum IndicatorView {
    /// The plan's years (2023–2025 action plan): the year picker's choices.
    static let planYears = [2023, 2024, 2025]

    static func status(_ code: String?) -> (css: String, label: String) {
        switch code {
        case "met": ("ok", "达标")
        case "not_met": ("bad", "未达标")
        case "at_risk": ("warn", "临界")
        case "tracked": ("none", "跟踪")
        default: ("none", "无数据")
        }
    }

    static func departments(_ row: JSONValue) -> String {
        (row["departments"]?.arrayValue ?? []).compactMap(\.stringValue).map { Department.names[$0] ?? $0 }.joined(separator: "、")
    }

    /// One `indicators.evaluate` row for a table.
    static func row(_ row: JSONValue) -> JSONObject {
        let (css, label) = status(row["status"]?.stringValue)
        let unit = row["unit"]?.stringValue ?? ""
        var detail = ""
        if let n = row["numerator"], n != .null, let d = row["denominator"], d != .null {
            detail = "\(ProgressReport.number(n)) / \(ProgressReport.number(d))"
        }
        return [
            "id": .string(row["id"]?.stringValue ?? ""), "name": .string(row["name_zh"]?.stringValue ?? ""),
            "name_en": .string(row["name_en"]?.stringValue ?? ""),
            "value": .string(ProgressReport.number(row["value"], unit: unit)), "target": .string(ProgressReport.target(row)),
            "css": .string(css), "label": .string(label), "clause": .string(row["clause"]?.stringValue ?? ""),
            "detail": .string(detail), "departments": .string(departments(row)),
        ]
    }

    /// A contributor row (its fields differ by indicator): who, where, the figure, the rest as a note.
    static func contributor(_ row: JSONValue) -> JSONValue {
        let who = row["name"]?.stringValue ?? row["institution_id"]?.stringValue ?? row["town_id"]?.stringValue ?? row["device_id"]?.stringValue ?? "-"
        var detail = ""
        if let n = row["numerator"], let d = row["denominator"], n != .null, d != .null {
            detail = "\(ProgressReport.number(n)) / \(ProgressReport.number(d))"
        }
        let shown: Set<String> = ["name", "institution_id", "town_id", "town_name", "value", "numerator", "denominator"]
        var notes: [String] = []
        for (key, value) in row.objectValue ?? [:] where !shown.contains(key) {
            switch (key, value) {
            case ("unreported", .bool(true)): notes.append("未报送")
            case ("unreported", _): continue
            case (_, .string(let text)): notes.append("\(key)=\(text)")
            case (_, .array(let items)): notes.append("\(key)=" + items.map { $0.stringValue ?? JSONWriter.string($0) }.joined(separator: ","))
            default: notes.append("\(key)=\(JSONWriter.string(value))")
            }
        }
        return [
            "who": .string(who), "id": .string(row["institution_id"]?.stringValue ?? ""),
            "town": .string(row["town_name"]?.stringValue ?? row["town_id"]?.stringValue ?? ""), "value": .string(ProgressReport.number(row["value"])),
            "detail": .string(detail), "note": .string(notes.joined(separator: "；")),
        ]
    }

    /// The SVG chart's model: one bar a year (coloured by status, value on top), each year's
    /// target as a dashed line over its bar, a y axis with five ticks and the years under the bars.
    static func chart(history: [JSONValue], title: String, unit: String) -> JSONObject {
        let width = 640.0, height = 260.0, left = 64.0, right = 16.0, top = 20.0, bottom = 40.0
        let baseline = height - bottom
        let values = history.map { $0["value"]?.doubleValue }
        let target = history.compactMap { $0["target"]?.doubleValue }.last
        let highest = (values.compactMap { $0 } + [target ?? 0]).max() ?? 0
        let step = niceStep(max(highest, 1) * 1.1 / 5)
        let ceiling = step * 5
        func y(_ v: Double) -> Double { baseline - max(0, min(v, ceiling)) / ceiling * (baseline - top) }
        func f(_ v: Double) -> JSONValue { .string(String(format: "%.1f", v)) }
        let slot = (width - left - right) / Double(max(history.count, 1))
        var bars: [JSONValue] = []
        for (index, point) in history.enumerated() {
            let x = left + Double(index) * slot + slot * 0.25
            let (css, label) = status(point["status"]?.stringValue)
            var bar: JSONObject = [
                "year": .string("\(point["year"]?.intValue ?? 0)"), "year_x": f(x + slot * 0.25), "year_y": f(baseline + 18),
                "css": .string(css), "status": .string(label),
            ]
            if let goal = point["target"]?.doubleValue {  // each year's own target: a dashed line over its slot
                bar["target"] = ["y": f(y(goal)), "x0": f(x - slot * 0.15), "x1": f(x + slot * 0.65)]
            } else {
                bar["target"] = false  // not the chart's `target` (mustache looks outwards)
            }
            if let value = values[index] {
                bar["has_value"] = true
                bar["x"] = f(x)
                bar["w"] = f(slot * 0.5)
                bar["y"] = f(y(value))
                bar["h"] = f(baseline - y(value))
                bar["label"] = .string(ProgressReport.number(.double(value)))
                bar["label_x"] = f(x + slot * 0.25)
                bar["label_y"] = f(y(value) - 5)
            } else {
                bar["label"] = "无数据"
                bar["label_x"] = f(x + slot * 0.25)
                bar["label_y"] = f(baseline - 5)
            }
            bars.append(.object(bar))
        }
        let ticks: [JSONValue] = (0...5).map { i in
            let v = step * Double(i)
            return ["y": f(y(v)), "label": .string(ProgressReport.number(.double(v))), "x": f(left - 6)]
        }
        var model: JSONObject = [
            "width": f(width), "height": f(height), "x0": f(left), "x1": f(width - right), "y0": f(baseline), "ytop": f(top),
            "ticks": .array(ticks), "bars": .array(bars), "title": .string(title),
            "unit": .string(unit == "ratio" || unit.isEmpty ? "" : unit), "unit_x": f(left - 6), "unit_y": f(top - 6),
        ]
        if let target {
            model["target"] = ["label": .string("目标 \(ProgressReport.number(.double(target)))"), "label_x": f(width - right), "label_y": f(y(target) - 4)]
        }
        return model
    }

    /// 1, 2 or 5 × a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let power = pow(10, floor(log10(raw)))
        for factor in [1.0, 2.0, 5.0, 10.0] where factor * power >= raw { return factor * power }
        return 10 * power
    }
}
