import ArgumentParser
import DudaoFeeds
import DudaoSheets
import Foundation

/// `dudao template`: the Excel template integrators fill in and send with `dudao send`.
struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Write the .xlsx template of feed types: a sheet per type with Chinese headers and a filled example row, and a 填写说明 sheet.")

    @Option(help: "A feed type, e.g. preschool.census (repeatable; default: every type).")
    var type: [String] = []

    @Option(help: "The workbook to write (default: TYPE.xlsx, or dudao-template.xlsx for several types).")
    var out: String?

    func run() throws {
        let types = try type.map { name -> FeedType in
            guard let known = FeedType(rawValue: name) else {
                throw ValidationError("--type \(name) is not a feed type; one of \(FeedType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return known
        }
        let chosen = types.isEmpty ? FeedType.allCases : types
        let path = out ?? (chosen.count == 1 ? chosen[0].rawValue + ".xlsx" : "dudao-template.xlsx")
        let writer = try XlsxWriter(path: path)
        for type in chosen { try Self.addSheet(FeedSheet.of(type), to: writer) }
        try Self.addInstructions(chosen.map(FeedSheet.of), to: writer)
        try writer.close()
        print("wrote \(path)")
    }

    /// `幼儿园普查（preschool.census）`: the reader takes the type from the brackets.
    static func sheetName(_ sheet: FeedSheet) -> String { "\(sheet.titleZh)（\(sheet.type.rawValue)）" }

    static func addSheet(_ sheet: FeedSheet, to writer: XlsxWriter) throws {
        let columns = sheet.columns.map { column in
            XlsxWriter.Column(width: Double(max(SafetyTable.width(column.header), SafetyTable.width(column.example), 8) + 2), text: textual(column.kind))
        }
        try writer.addSheet(sheetName(sheet), columns: columns) { rows in
            try rows.append(sheet.columns.map { .text($0.header) })
            try rows.append(sheet.columns.map { example($0, $0.example) })
            // The school the compulsory.census example names, so a whole template is accepted as is.
            if sheet.type == .registryInstitution {
                let school = ["institution_id": "ps-dongcheng-01", "name": "东成镇中心小学", "level": "primary", "town_central": ""]
                try rows.append(sheet.columns.map { example($0, school[$0.field] ?? $0.example) })
            }
            // A second class of the same feed: the feed's own columns are left blank.
            if let rowsField = sheet.rowsField {
                try rows.append(sheet.columns.map { column in
                    guard column.field.hasPrefix(rowsField + ".") else { return .empty }
                    return example(column, column.field == rowsField + ".class_id" ? column.example + "-2" : column.example)
                })
            }
        }
    }

    static func addInstructions(_ sheets: [FeedSheet], to writer: XlsxWriter) throws {
        let header = ["工作表", "列名", "字段", "填写要求", "必填"]
        try writer.addSheet("填写说明", columns: [28, 30, 28, 60, 6].map { XlsxWriter.Column(width: $0) }) { rows in
            try rows.append(header.map(SheetCell.text))
            for sheet in sheets {
                for column in sheet.columns {
                    var rule = describe(column.kind)
                    if let rowsField = sheet.rowsField, column.field.hasPrefix(rowsField + ".") {
                        rule += "；每行一个班级，同一份数据的其他列只在第一行填写"
                    }
                    try rows.append([
                        .text(sheetName(sheet)), .text(column.zh), .text(column.field), .text(rule), .text(column.optional ? "否" : "是"),
                    ])
                }
            }
        }
    }

    static func example(_ column: FeedColumn, _ text: String) -> SheetCell {
        if text.isEmpty { return .empty }
        switch column.kind {
        case .integer, .number: return .number(text)
        case .bool: return .bool(text == "TRUE")
        default: return .text(text)
        }
    }

    static func textual(_ kind: ColumnKind) -> Bool {
        switch kind {
        case .integer, .number, .bool: false
        default: true
        }
    }

    static func describe(_ kind: ColumnKind) -> String {
        switch kind {
        case .identifier: "代码：字母、数字、. _ : -"
        case .text: "文字"
        case .choice(let values): "取值：" + values.map { value in FeedSheet.choiceZh(value).map { "\(value)（\($0)）" } ?? value }.joined(separator: "、")
        case .integer: "整数"
        case .number: "数字，可有小数"
        case .bool: "是/否（TRUE/FALSE）"
        case .date: "日期，如 2024-08-31"
        case .timestamp: "时间，如 2026-11-29 08:00（北京时间）或 2026-11-29T08:00:00+08:00"
        case .identifiers: "多个设备编号，用逗号或顿号分隔"
        }
    }
}
