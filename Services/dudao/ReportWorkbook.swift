import DudaoCore
import DudaoReport
import DudaoSheets

/// The monthly report as an Excel workbook: 全市指标 (the city's indicators with value, target
/// and status), 分镇街 (every town's indicators, one row each), 较上月变化 (what changed since
/// last month's snapshot). Values are numbers, so a person can sort and chart them.
enum ReportWorkbook {
    static let indicatorHeader = ["指标", "指标代码", "数值", "单位", "目标", "状态", "条款"]

    static func write(_ report: ProgressReport, to path: String) throws {
        let writer = try XlsxWriter(path: path)
        let widths: [Double] = [34, 36, 12, 8, 10, 8, 40]
        try writer.addSheet("全市指标", columns: widths.map { XlsxWriter.Column(width: $0) }) { rows in
            try rows.append(indicatorHeader.map(SheetCell.text))
            for row in report.city { try rows.append(cells(row)) }
        }
        try writer.addSheet("分镇街", columns: ([14, 16] + widths).map { XlsxWriter.Column(width: $0) }) { rows in
            try rows.append((["镇街", "镇街代码"] + indicatorHeader).map(SheetCell.text))
            for town in report.towns {
                let name = town["name"]?.stringValue ?? ""
                let id = town["town_id"]?.stringValue ?? ""
                for row in town["indicators"]?.arrayValue ?? [] { try rows.append([.text(name), .text(id)] + cells(row)) }
            }
        }
        try writer.addSheet("较上月变化", columns: [34, 16, 16].map { XlsxWriter.Column(width: $0) }) { rows in
            try rows.append(["指标", "上月", "本月"].map(SheetCell.text))
            if let changes = report.changes {
                for change in changes { try rows.append([.text(change.name), .text(change.before), .text(change.after)]) }
            } else {
                try rows.append([.text("上月无快照")])
            }
        }
        try writer.close()
    }

    static func cells(_ row: JSONValue) -> [SheetCell] {
        [
            .text(row["name_zh"]?.stringValue ?? ""), .text(row["id"]?.stringValue ?? ""), number(row["value"]),
            .text(row["unit"]?.stringValue ?? ""),
            row["target"]?.doubleValue == nil ? .empty : .text(ProgressReport.target(row)),
            .text(ProgressReport.status(row)), .text(row["clause"]?.stringValue ?? ""),
        ]
    }

    static func number(_ value: JSONValue?) -> SheetCell {
        guard let value, let number = value.doubleValue else { return .empty }
        if case .int(let whole) = value { return .number(whole) }
        return .number((number * 10_000).rounded() / 10_000)
    }
}
