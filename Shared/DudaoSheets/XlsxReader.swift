import Foundation
import ZIPFoundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Why a workbook cannot be read.
public struct XlsxError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Reads an Excel workbook (.xlsx): its sheets in workbook order, each sheet's rows streamed.
/// A sheet's XML is extracted (ZIPFoundation) to a temporary file and parsed in chunks
/// (XMLParser on an InputStream), so memory holds one row, plus the shared-strings table
/// that every xlsx writer's cells point into.
public final class XlsxReader {
    public struct Sheet: Sendable {
        public var name: String
        /// The sheet's part in the package, e.g. `xl/worksheets/sheet1.xml`.
        public var part: String
    }

    public let path: String
    public let sheets: [Sheet]
    private let archive: Archive
    private let sharedStringsPart: String?
    private var sharedStrings: [String]?

    public init(path: String) throws {
        self.path = path
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw XlsxError("\(path) is not an .xlsx workbook (not a ZIP package: \(error))")
        }
        let packageRels = try OpenXMLRelationships.decode(Self.read(archive, "_rels/.rels", in: path))
        guard let workbookPart = packageRels.target(typeSuffix: "/officeDocument", base: "") else {
            throw XlsxError("\(path): the package names no workbook (_rels/.rels)")
        }
        let folder = workbookPart.split(separator: "/").dropLast().joined(separator: "/")
        let workbookSheets = try OpenXMLWorkbook.sheets(Self.read(archive, workbookPart, in: path))
        let relsPart = (folder.isEmpty ? "" : folder + "/") + "_rels/" + (workbookPart.split(separator: "/").last.map(String.init) ?? "") + ".rels"
        let rels = try OpenXMLRelationships.decode(Self.read(archive, relsPart, in: path))
        sheets = try workbookSheets.map { sheet in
            guard let part = rels.target(id: sheet.id, base: folder) else {
                throw XlsxError("\(path): sheet \"\(sheet.name)\" has no part (relationship \(sheet.id))")
            }
            return Sheet(name: sheet.name, part: part)
        }
        sharedStringsPart = rels.target(typeSuffix: "/sharedStrings", base: folder)
    }

    /// Calls `each` with every non-empty row of `sheet`, in order.
    public func rows(of sheet: Sheet, _ each: (SheetRow) throws -> Void) throws {
        let strings = try loadSharedStrings()
        // The parser holds `each` only while `parse` runs.
        try withoutActuallyEscaping(each) { each in
            let parser = SheetXMLParser(sharedStrings: strings, each: each)
            try parse(part: sheet.part, delegate: parser) { parser.failure }
        }
    }

    private func loadSharedStrings() throws -> [String] {
        if let sharedStrings { return sharedStrings }
        var strings: [String] = []
        if let part = sharedStringsPart, archive[part] != nil {
            let parser = SharedStringsXMLParser()
            try parse(part: part, delegate: parser) { nil }
            strings = parser.strings
        }
        sharedStrings = strings
        return strings
    }

    private func parse(part: String, delegate: any XMLParserDelegate, failure: () -> (any Error)?) throws {
        guard let entry = archive[part] else { throw XlsxError("\(path): the part \(part) is missing") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dudao-xlsx-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try archive.extract(entry, to: file)
        guard let stream = InputStream(url: file) else { throw XlsxError("\(path): cannot read \(part)") }
        let parser = XMLParser(stream: stream)
        parser.shouldProcessNamespaces = true
        parser.delegate = delegate
        let ok = parser.parse()
        if let error = failure() { throw error }
        if !ok {
            let detail = parser.parserError.map { "\($0)" } ?? "unknown error"
            throw XlsxError("\(path): \(part) is not well-formed XML at line \(parser.lineNumber): \(detail)")
        }
    }

    static func read(_ archive: Archive, _ part: String, in path: String) throws -> Data {
        guard let entry = archive[part] else { throw XlsxError("\(path): the part \(part) is missing; is it an .xlsx workbook?") }
        var data = Data()
        _ = try archive.extract(entry) { data.append($0) }
        return data
    }
}

/// The rows of one worksheet's `sheetData`.
final class SheetXMLParser: NSObject, XMLParserDelegate {
    private let sharedStrings: [String]
    private let each: (SheetRow) throws -> Void
    private(set) var failure: (any Error)?

    private var rowNumber = 0
    private var cells: [SheetCell] = []
    private var column = 0
    private var cellType: String?
    private var value = ""
    private var capturing = false
    private var inPhonetic = false

    init(sharedStrings: [String], each: @escaping (SheetRow) throws -> Void) {
        self.sharedStrings = sharedStrings
        self.each = each
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch name {
        case "row":
            rowNumber = attributes["r"].flatMap { Int($0) } ?? rowNumber + 1
            cells.removeAll(keepingCapacity: true)
            column = 0
        case "c":
            column = attributes["r"].flatMap(CellReference.column) ?? cells.count
            cellType = attributes["t"]
            value = ""
        case "v": capturing = true
        case "t": capturing = !inPhonetic
        case "rPh": inPhonetic = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if capturing { value += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "v", "t": capturing = false
        case "rPh": inPhonetic = false
        case "c":
            let cell: SheetCell
            switch cellType {
            case "s":
                guard let index = Int(value), sharedStrings.indices.contains(index) else {
                    fail(parser, XlsxError("row \(rowNumber), column \(CellReference.letters(column)): shared string \(value) does not exist"))
                    return
                }
                cell = sharedStrings[index].isEmpty ? .empty : .text(sharedStrings[index])
            case "inlineStr", "str", "d": cell = value.isEmpty ? .empty : .text(value)
            case "b": cell = .bool(value == "1" || value.lowercased() == "true")
            case "e": cell = .error(value)
            default: cell = value.isEmpty ? .empty : .number(value)
            }
            if column >= cells.count { cells.append(contentsOf: repeatElement(.empty, count: column - cells.count + 1)) }
            cells[column] = cell
        case "row":
            let row = SheetRow(number: rowNumber, cells: cells)
            if row.isEmpty { return }
            do {
                try each(row)
            } catch {
                fail(parser, error)
            }
        default: break
        }
    }

    private func fail(_ parser: XMLParser, _ error: any Error) {
        if failure == nil { failure = error }
        parser.abortParsing()
    }
}

/// The shared-strings table (`xl/sharedStrings.xml`): each `si`'s text runs joined, phonetic
/// guides (`rPh`, the pinyin or kana Excel may keep) left out.
final class SharedStringsXMLParser: NSObject, XMLParserDelegate {
    private(set) var strings: [String] = []
    private var current = ""
    private var capturing = false
    private var inPhonetic = false

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch name {
        case "si": current = ""
        case "t": capturing = !inPhonetic
        case "rPh": inPhonetic = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if capturing { current += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "t": capturing = false
        case "rPh": inPhonetic = false
        case "si": strings.append(current)
        default: break
        }
    }
}
