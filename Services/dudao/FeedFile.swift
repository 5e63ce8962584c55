import DudaoCore
import DudaoWire
import Foundation

/// One line of a feed file, ready to send.
struct FeedLine {
    var line: Int
    var frame: JSONValue
    var id: String?
}

/// A line that could not be turned into a frame.
struct FeedLineProblem: Error {
    var line: Int
    var message: String
}

/// Reads JSON Lines and CSV feed files (SPEC section 3, "The CLI sends files too").
///
/// - JSON Lines: one envelope per line, or one bare body per line with `--type`.
/// - CSV: a header of body field names, one record per row, `--type` required. A cell holding
///   JSON (`[...]`, `{...}`, a number, `true`/`false`) is read as JSON, except in identifier
///   and text fields (`*_id`, `name`, `kind`, `level`, ...), which stay strings. Empty cells
///   are left out.
///
/// Bodies get a stable id made of the file name, the line number and a hash of the line, so
/// sending the same file again is answered `duplicate` instead of storing twice.
enum FeedFile {
    static let textFields: Set<String> = [
        "name", "kind", "level", "ownership", "status", "due", "as_of", "at", "note", "device_kind",
    ]

    static func read(path: String, type: String?) throws -> [Result<FeedLine, FeedLineProblem>] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FeedFileError(message: "cannot read \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let base = stableBase(path)
        if path.lowercased().hasSuffix(".csv") {
            guard let type else { throw FeedFileError(message: "\(path): a CSV file needs --type (e.g. --type preschool.census)") }
            return readCSV(text, base: base, type: type)
        }
        var results: [Result<FeedLine, FeedLineProblem>] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            guard let value = try? JSONParser.parse(line), let object = value.objectValue else {
                results.append(.failure(FeedLineProblem(line: number, message: "not a JSON object")))
                continue
            }
            if object["v"] != nil || object["body"] != nil {
                results.append(.success(FeedLine(line: number, frame: value, id: object["id"]?.stringValue)))
            } else if let type {
                let id = stableID(base: base, line: number, content: line)
                results.append(.success(FeedLine(line: number, frame: envelope(id: id, type: type, body: object), id: id)))
            } else {
                results.append(.failure(FeedLineProblem(line: number, message: "a bare body needs --type")))
            }
        }
        return results
    }

    static func envelope(id: String, type: String, body: JSONObject) -> JSONValue {
        Frame.feed(id: id, type: type, body: .object(body))
    }

    static func readCSV(_ text: String, base: String, type: String) -> [Result<FeedLine, FeedLineProblem>] {
        let rows = CSV.parse(text)
        guard let header = rows.first else { return [] }
        var results: [Result<FeedLine, FeedLineProblem>] = []
        for (offset, row) in rows.dropFirst().enumerated() {
            let number = offset + 2
            if row.count == 1, row[0].isEmpty { continue }
            guard row.count == header.count else {
                results.append(.failure(FeedLineProblem(line: number, message: "has \(row.count) cells, the header has \(header.count)")))
                continue
            }
            var body = JSONObject()
            for (name, cell) in zip(header, row) where !cell.isEmpty {
                body[name] = cellValue(name: name, cell: cell)
            }
            let id = stableID(base: base, line: number, content: row.joined(separator: ","))
            results.append(.success(FeedLine(line: number, frame: envelope(id: id, type: type, body: body), id: id)))
        }
        return results
    }

    static func cellValue(name: String, cell: String) -> JSONValue {
        if name.hasSuffix("_id") || textFields.contains(name) { return .string(cell) }
        if let parsed = try? JSONParser.parse(cell) { return parsed }
        return .string(cell)
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

/// RFC 4180 CSV: quoted cells may hold commas, quotes (doubled) and newlines.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let following = next() {
                        if following == "\"" { cell.unicodeScalars.append("\"") } else { quoted = false; pending = following }
                    } else {
                        quoted = false
                    }
                } else {
                    cell.unicodeScalars.append(c)
                }
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
        if !cell.isEmpty || !row.isEmpty {
            row.append(cell)
            rows.append(row)
        }
        return rows
    }
}
