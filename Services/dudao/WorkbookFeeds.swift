import DudaoCore
import DudaoFeeds
import DudaoSheets
import Foundation

/// Turns the sheets of an .xlsx workbook into feeds (SPEC section 3, "The CLI sends files too").
///
/// - A sheet is a feed type when its name is the type (`preschool.census`), its Chinese title
///   (`幼儿园普查`), or holds the type in brackets (`幼儿园普查（preschool.census）`); other sheets
///   (instructions) are skipped.
/// - The first non-empty row is the header: `中文名（field）`, the Chinese name alone, or the
///   field alone. A header that is none of these stops the file before anything is sent.
/// - Each later row is a feed; for a type with classes, each row is a class and the feed's own
///   columns are filled on its first row (a row whose key columns are blank or repeat the
///   previous row's belongs to the same feed).
/// - Cells are read by the column's kind: numbers, TRUE/FALSE or 是/否, Excel dates (as Beijing
///   time), choice values in Chinese (`小班` → `small`), lists of device ids. A cell that does
///   not fit is sent as typed, and dudao-ingest's refusal names the field.
struct WorkbookFeeds {
    /// One feed or one row that could not be made into one, with its place in the workbook.
    enum Item {
        case feed(label: String, frame: JSONValue, id: String)
        case problem(label: String, message: String)
    }

    let path: String
    private let base: String
    private(set) var skippedSheets: [String] = []

    init(path: String) {
        self.path = path
        base = FeedFile.stableBase(path)
    }

    /// Reads every feed sheet in workbook order, calling `emit` for each item.
    mutating func read(_ emit: (Item) throws -> Void) throws {
        let reader: XlsxReader
        do {
            reader = try XlsxReader(path: path)
        } catch {
            throw FeedFileError(message: "\(error)")
        }
        for sheet in reader.sheets {
            guard let type = Self.feedType(sheetName: sheet.name) else {
                skippedSheets.append(sheet.name)
                continue
            }
            var builder = SheetFeedBuilder(layout: FeedSheet.of(type), sheet: sheet.name, path: path, base: base)
            do {
                try reader.rows(of: sheet) { row in try builder.add(row, emit) }
                try builder.finish(emit)
            } catch let error as FeedFileError {
                throw error
            } catch {
                throw FeedFileError(message: "\(path), sheet \(sheet.name): \(error)")
            }
        }
    }

    static func feedType(sheetName: String) -> FeedType? {
        let name = sheetName.trimmingCharacters(in: .whitespaces)
        if let type = FeedType(rawValue: name) { return type }
        if let type = FeedType.allCases.first(where: { FeedSheet.of($0).titleZh == name }) { return type }
        return FeedType.allCases.first { type in
            ["（\(type.rawValue)）", "(\(type.rawValue))"].contains { name.hasSuffix($0) }
        }
    }
}

/// The rows of one sheet becoming feeds.
struct SheetFeedBuilder {
    let layout: FeedSheet
    let sheet: String
    let path: String
    let base: String
    private var columns: [Int: FeedColumn]?
    /// The feed being gathered (a type with classes): its first row, body and key.
    private var pending: (row: Int, body: JSONObject, key: [JSONValue?], elements: [JSONValue])?

    init(layout: FeedSheet, sheet: String, path: String, base: String) {
        self.layout = layout
        self.sheet = sheet
        self.path = path
        self.base = base
    }

    mutating func add(_ row: SheetRow, _ emit: (WorkbookFeeds.Item) throws -> Void) throws {
        guard let columns else {
            columns = try header(row)
            return
        }
        var top = JSONObject()
        var nested: [String: JSONObject] = [:]
        for (index, column) in columns.sorted(by: { $0.key < $1.key }) {
            guard let value = SheetCellValue.value(row[index], kind: column.kind) else { continue }
            let parts = column.field.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                nested[parts[0], default: JSONObject()][parts[1]] = value
            } else {
                top[column.field] = value
            }
        }
        guard let rowsField = layout.rowsField else {
            for (name, object) in nested { top[name] = .object(object) }
            try emit(feed(row: row.number, body: top))
            return
        }
        let element = nested[rowsField].map(JSONValue.object)
        let key = layout.key.map { top[$0] }
        // A row continues the feed when each key cell it fills repeats the feed's.
        if var current = pending, zip(key, current.key).allSatisfy({ $0 == nil || $0 == $1 }) {
            // The same feed: its own columns may repeat, not change.
            for (name, value) in top where current.body[name] != value {
                if current.body[name] == nil {
                    current.body[name] = value
                } else {
                    pending = nil
                    try emit(.problem(
                        label: label(row.number),
                        message: "\(name) is \(JSONWriter.string(value)) here but \(JSONWriter.string(current.body[name]!)) on row \(current.row) of the same feed; fill a feed's own columns on its first row only"))
                    return
                }
            }
            if let element { current.elements.append(element) }
            pending = current
            return
        }
        try finish(emit)
        pending = (row.number, top, key, element.map { [$0] } ?? [])
    }

    mutating func finish(_ emit: (WorkbookFeeds.Item) throws -> Void) throws {
        if columns == nil { return }
        guard let current = pending, let rowsField = layout.rowsField else { return }
        pending = nil
        var body = current.body
        body[rowsField] = .array(current.elements)
        try emit(feed(row: current.row, body: body))
    }

    private func label(_ row: Int) -> String { "\(sheet)!\(row)" }

    private func feed(row: Int, body: JSONObject) -> WorkbookFeeds.Item {
        let id = FeedFile.stableID(base: base + ":" + FeedFile.stableBase(layout.type.rawValue), line: row, content: JSONWriter.string(.object(body)))
        return .feed(label: label(row), frame: FeedFile.envelope(id: id, type: layout.type.rawValue, body: body), id: id)
    }

    /// The header row: which column holds which field.
    private func header(_ row: SheetRow) throws -> [Int: FeedColumn] {
        var result: [Int: FeedColumn] = [:]
        var seen: [String: Int] = [:]
        for (index, cell) in row.cells.enumerated() {
            guard case .text(let raw) = cell else {
                if cell.isEmpty { continue }
                throw FeedFileError(message: "\(path), sheet \(sheet), cell \(CellReference.letters(index))\(row.number): the header row holds a value that is not text, not a column name")
            }
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let column = Self.column(named: text, in: layout) else {
                let known = layout.columns.map(\.header).joined(separator: "、")
                throw FeedFileError(
                    message: "\(path), sheet \(sheet), cell \(CellReference.letters(index))\(row.number): \"\(text)\" is not a column of \(layout.type.rawValue) (\(layout.titleZh)); its columns are \(known). `dudao template --type \(layout.type.rawValue)` writes the template.")
            }
            if let first = seen[column.field] {
                throw FeedFileError(
                    message: "\(path), sheet \(sheet): columns \(CellReference.letters(first)) and \(CellReference.letters(index)) both hold \(column.field)")
            }
            seen[column.field] = index
            result[index] = column
        }
        return result
    }

    /// `中文（field）`, `中文(field)`, the Chinese name, or the field name.
    static func column(named text: String, in layout: FeedSheet) -> FeedColumn? {
        for (open, close) in [("（", "）"), ("(", ")")] where text.hasSuffix(close) {
            if let start = text.range(of: open, options: .backwards) {
                let field = String(text[start.upperBound..<text.index(before: text.endIndex)]).trimmingCharacters(in: .whitespaces)
                if let column = layout.columns.first(where: { $0.field == field }) { return column }
            }
        }
        return layout.columns.first { $0.zh == text || $0.field == text }
    }
}
