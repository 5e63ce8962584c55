import Foundation
import ZIPFoundation

/// Writes an Excel workbook (.xlsx) sheet by sheet, row by row: each sheet's XML goes to a
/// temporary file as rows are appended, and ``close()`` packs the parts with ZIPFoundation
/// (deflate) and moves the workbook into place. Memory stays at one row, so a long safety list
/// exports like a short one. Strings are written inline (no shared-strings table), which Excel,
/// LibreOffice and openpyxl all read.
public final class XlsxWriter {
    /// How one column shows: its width in characters, and whether it is text-formatted (`@`),
    /// so that what a person types there (an id such as `0012`) stays text.
    public struct Column: Sendable {
        public var width: Double?
        public var text: Bool

        public init(width: Double? = nil, text: Bool = false) {
            self.width = width
            self.text = text
        }
    }

    private let path: String
    private let folder: URL
    private var sheets: [(name: String, file: URL)] = []
    private var closed = false

    public init(path: String) throws {
        self.path = path
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dudao-xlsx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Adds a sheet; `rows` appends its rows through the writer it is given. The first row is
    /// shown bold and stays in view when scrolling (`headerRow`).
    public func addSheet(
        _ name: String, columns: [Column] = [], headerRow: Bool = true, rows: (SheetRowWriter) throws -> Void
    ) throws {
        let name = Self.sheetName(name, taken: Set(sheets.map(\.name)))
        let file = folder.appendingPathComponent("sheet\(sheets.count + 1).xml")
        let writer = try SheetRowWriter(file: file, header: headerRow)
        writer.write(#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#)
        writer.write(#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#)
        if headerRow {
            writer.write(#"<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>"#)
        }
        if !columns.isEmpty {
            writer.write("<cols>")
            for (index, column) in columns.enumerated() {
                var attributes = #"min="\#(index + 1)" max="\#(index + 1)""#
                attributes += #" width="\#(column.width ?? 12)" customWidth="1""#
                if column.text { attributes += #" style="\#(Style.text)""# }
                writer.write("<col \(attributes)/>")
            }
            writer.write("</cols>")
        }
        writer.write("<sheetData>")
        try rows(writer)
        writer.write("</sheetData></worksheet>")
        try writer.close()
        sheets.append((name, file))
    }

    /// Packs the workbook and moves it to `path` (replacing what was there).
    public func close() throws {
        guard !closed else { return }
        closed = true
        let staging = URL(fileURLWithPath: path + ".partial")
        try? FileManager.default.removeItem(at: staging)
        let archive = try Archive(url: staging, accessMode: .create)
        func add(_ name: String, _ text: String) throws {
            let data = Data(text.utf8)
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
        }
        try add("[Content_Types].xml", OpenXMLParts.contentTypes(sheets: sheets.count))
        try add("_rels/.rels", OpenXMLParts.packageRelationships)
        try add("xl/workbook.xml", OpenXMLParts.workbook(sheetNames: sheets.map(\.name)))
        try add("xl/_rels/workbook.xml.rels", OpenXMLParts.workbookRelationships(sheets: sheets.count))
        try add("xl/styles.xml", OpenXMLParts.styles)
        for (index, sheet) in sheets.enumerated() {
            try archive.addEntry(with: "xl/worksheets/sheet\(index + 1).xml", fileURL: sheet.file, compressionMethod: .deflate)
        }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(at: staging, to: URL(fileURLWithPath: path))
    }

    /// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, unique.
    static func sheetName(_ wanted: String, taken: Set<String>) -> String {
        let forbidden: Set<Character> = ["[", "]", ":", "*", "?", "/", "\\"]
        var name = String(wanted.filter { !forbidden.contains($0) }.prefix(31))
        if name.isEmpty { name = "Sheet" }
        var candidate = name
        var n = 2
        while taken.contains(candidate) {
            let suffix = " (\(n))"
            candidate = String(name.prefix(31 - suffix.count)) + suffix
            n += 1
        }
        return candidate
    }

    /// Cell style indexes of ``OpenXMLParts/styles``.
    enum Style {
        static let header = 1
        static let text = 2
    }
}

/// Appends rows to one sheet being written.
public final class SheetRowWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let header: Bool
    private var rowNumber = 0

    init(file: URL, header: Bool) throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        handle = try FileHandle(forWritingTo: file)
        self.header = header
        buffer.reserveCapacity(1 << 16)
    }

    /// Appends the next row (empty cells are left out).
    public func append(_ cells: [SheetCell]) throws {
        rowNumber += 1
        let style = header && rowNumber == 1 ? #" s="\#(XlsxWriter.Style.header)""# : ""
        write(#"<row r="\#(rowNumber)">"#)
        for (column, cell) in cells.enumerated() {
            let reference = CellReference.letters(column) + String(rowNumber)
            switch cell {
            case .empty: continue
            case .text(let text), .error(let text):
                if text.isEmpty { continue }
                let space = text.first?.isWhitespace == true || text.last?.isWhitespace == true ? #" xml:space="preserve""# : ""
                write(#"<c r="\#(reference)" t="inlineStr"\#(style)><is><t\#(space)>"#)
                write(XMLText.escaped(text))
                write("</t></is></c>")
            case .number(let spelling):
                write(#"<c r="\#(reference)"\#(style)><v>\#(XMLText.escaped(spelling))</v></c>"#)
            case .bool(let value):
                write(#"<c r="\#(reference)" t="b"\#(style)><v>\#(value ? 1 : 0)</v></c>"#)
            }
        }
        write("</row>")
        if buffer.count >= 1 << 16 { try flush() }
    }

    func write(_ text: String) { buffer.append(contentsOf: text.utf8) }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}

/// Text as XML character data: `&`, `<`, `>`, `"` escaped, and the control characters XML 1.0
/// cannot hold dropped (tab, newline and carriage return stay).
enum XMLText {
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "&" || $0 == "<" || $0 == ">" || $0 == "\"" || $0.value < 0x20 })
        else { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default: if scalar.value >= 0x20 { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
