import DudaoCore
import DudaoFeeds
import DudaoSheets
import DudaoWire
import Foundation

/// One line of a feed file, ready to send.
struct FeedLine {
    /// The line (JSON Lines), record (CSV) or row counted across the workbook (xlsx).
    var line: Int
    var frame: JSONValue
    var id: String?
    /// Where a person finds it when `line` is not enough: `sheet!row` in a workbook.
    var label: String? = nil

    var place: String { label ?? String(line) }
}

/// A line that could not be turned into a frame.
struct FeedLineProblem: Error {
    var line: Int
    var message: String
    var label: String? = nil

    var place: String { label ?? String(line) }
}

/// A feed file read record by record.
protocol FeedRecords: AnyObject {
    /// The size in bytes of what is read (for the progress line).
    var size: Int64 { get }
    var bytesRead: Int64 { get }
    /// The next record's outcome (a frame to send, or why it cannot be sent); nil at the end.
    func next() throws -> Result<FeedLine, FeedLineProblem>?
}

/// Reads JSON Lines and CSV feed files (SPEC section 3, "The CLI sends files too").
///
/// - JSON Lines: one envelope per line, or one bare body per line with `--type`.
/// - CSV: a header of body field names, one record per row, `--type` required. A cell is read
///   by its column's kind as the validator declares it (``FeedSheet``, as for .xlsx): numbers,
///   booleans (also 是/否), dates, choice values (also in Chinese); identifiers and text stay
///   strings; arrays and objects (`classes`, `studios`, `alarm_devices`) are JSON in the cell.
///   Empty cells are left out.
///
/// Bodies get a stable id made of the file name, the line number and a hash of the line, so
/// sending the same file again is answered `duplicate` instead of storing twice.
enum FeedFile {
    /// Opens `path` for reading record by record (`encoding` nil: detected from the first chunk).
    static func open(path: String, type: String?, encoding: FileEncoding?) throws -> any FeedRecords {
        if path.lowercased().hasSuffix(".xlsx") {
            let workbook = try WorkbookFeedStream(path: path)
            for name in workbook.skippedSheets {
                FileHandle.standardError.write(Data("\(path): sheet \"\(name)\" is not a feed type; skipped\n".utf8))
            }
            return workbook
        }
        let csv = path.lowercased().hasSuffix(".csv")
        if csv, type == nil { throw FeedFileError(message: "\(path): a CSV file needs --type (e.g. --type preschool.census)") }
        return try FeedFileStream(path: path, type: type, csv: csv, encoding: encoding)
    }

    /// One JSON Lines line (`number` counts physical lines from 1); nil for a blank or `#` line.
    static func jsonLine(_ rawLine: Substring, number: Int, base: String, type: String?) -> Result<FeedLine, FeedLineProblem>? {
        let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty || line.hasPrefix("#") { return nil }
        guard let value = try? JSONParser.parse(line), let object = value.objectValue else {
            return .failure(FeedLineProblem(line: number, message: "not a JSON object"))
        }
        if object["v"] != nil || object["body"] != nil {
            return .success(FeedLine(line: number, frame: value, id: object["id"]?.stringValue))
        } else if let type {
            let id = stableID(base: base, line: number, content: line)
            return .success(FeedLine(line: number, frame: envelope(id: id, type: type, body: object), id: id))
        } else {
            return .failure(FeedLineProblem(line: number, message: "a bare body needs --type"))
        }
    }

    /// One CSV record (`number` counts records from 1, the header being 1); nil for an empty one.
    static func csvRecord(_ row: [String], header: [String], number: Int, base: String, type: String) -> Result<FeedLine, FeedLineProblem>? {
        if row.count == 1, row[0].isEmpty { return nil }
        guard row.count == header.count else {
            return .failure(FeedLineProblem(line: number, message: "has \(row.count) cells, the header has \(header.count)"))
        }
        var body = JSONObject()
        let kinds = FeedType(rawValue: type).flatMap { columnKinds[$0] } ?? [:]
        for (name, cell) in zip(header, row) where !cell.isEmpty {
            body[name] = cellValue(cell, kind: kinds[name])
        }
        let id = stableID(base: base, line: number, content: row.joined(separator: ","))
        return .success(FeedLine(line: number, frame: envelope(id: id, type: type, body: body), id: id))
    }

    static func envelope(id: String, type: String, body: JSONObject) -> JSONValue {
        Frame.feed(id: id, type: type, body: .object(body))
    }

    /// The kind of each top-level column of each type (nested ones are JSON in their cell).
    static let columnKinds: [FeedType: [String: ColumnKind]] = Dictionary(
        uniqueKeysWithValues: FeedType.allCases.map { type in
            var kinds: [String: ColumnKind] = [:]
            for column in FeedSheet.of(type).columns where !column.field.contains(".") { kinds[column.field] = column.kind }
            return (type, kinds)
        })

    /// A CSV cell as a body value: by `kind`; JSON for a container or a column the type does not
    /// have (the ingest then names it); a string when nothing fits (the ingest says what it expects).
    static func cellValue(_ cell: String, kind: ColumnKind?) -> JSONValue {
        switch kind {
        case .identifier?, .text?, .choice?:
            return SheetCellValue.value(.text(cell), kind: kind!) ?? .string(cell)
        case let kind?:
            let trimmed = cell.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("["), let parsed = try? JSONParser.parse(trimmed) { return parsed }
            return SheetCellValue.value(.text(cell), kind: kind) ?? .string(cell)
        case nil:
            return (try? JSONParser.parse(cell)) ?? .string(cell)
        }
    }

    /// The file's name reduced to id characters.
    static func stableBase(_ path: String) -> String {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let cleaned = String(name.unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return (c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-")) ? c : "_"
        })
        return String(cleaned.prefix(60))
    }

    /// `send:<file>:<line>:<fnv-1a of the line>`: the same line of the same file gets the same id.
    static func stableID(base: String, line: Int, content: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in content.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "send:\(base):\(line):\(String(repeating: "0", count: 16 - hex.count))\(hex)"
    }
}

struct FeedFileError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// RFC 4180 CSV, read incrementally: quoted cells may hold commas, quotes (doubled) and
/// newlines, and a record may span any number of chunks.
struct CSVRows {
    private var row: [String] = []
    private var cell = ""
    private var quoted = false
    /// A quote seen inside a quoted cell: the next scalar decides (another quote, or the end).
    private var quoteInQuoted = false

    /// The records completed by `text`.
    mutating func feed(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        for c in text.unicodeScalars {
            if quoteInQuoted {
                quoteInQuoted = false
                if c == "\"" {
                    cell.unicodeScalars.append("\"")
                    continue
                }
                quoted = false
            } else if quoted {
                if c == "\"" { quoteInQuoted = true } else { cell.unicodeScalars.append(c) }
                continue
            }
            switch c {
            case "\"": quoted = true
            case ",": row.append(cell); cell = ""
            case "\r": continue
            case "\n":
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            default: cell.unicodeScalars.append(c)
            }
        }
        return rows
    }

    /// The last record when the text did not end with a newline.
    mutating func finish() -> [String]? {
        defer { row = []; cell = ""; quoted = false; quoteInQuoted = false }
        guard !cell.isEmpty || !row.isEmpty else { return nil }
        return row + [cell]
    }
}
