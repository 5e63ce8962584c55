import DudaoCore
import Foundation

/// A feed file read record by record, never whole: 1 MiB chunks, decoded (UTF-8 or GB18030),
/// split into JSON Lines lines or CSV records. Memory stays at a chunk plus one record, so a
/// 1 GB census export is read like a small one. Line numbers and ids are those ``FeedFile``
/// always gave (a re-send of the same file is `duplicate`).
final class FeedFileStream: FeedRecords {
    let path: String
    let encoding: FileEncoding
    /// The file's size in bytes (for the progress line).
    let size: Int64
    /// Bytes read so far.
    private(set) var bytesRead: Int64 = 0

    private let handle: FileHandle
    private let decoder: TextStreamDecoder
    private let type: String?
    private let csv: Bool
    private let base: String
    private var finished = false
    private var ready: [Result<FeedLine, FeedLineProblem>] = []
    private var readyIndex = 0
    // JSON Lines
    private var partialLine = ""
    private var lineNumber = 0
    // CSV
    private var rows = CSVRows()
    private var header: [String]?
    private var recordNumber = 0

    static let chunkBytes = 1 << 20

    init(path: String, type: String?, csv: Bool, encoding: FileEncoding?) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FeedFileError(message: "cannot read \(path)") }
        self.handle = handle
        self.path = path
        self.type = type
        self.csv = csv
        base = FeedFile.stableBase(path)
        size = Int64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0)
        let head = [UInt8](try handle.read(upToCount: 64 * 1024) ?? Data())
        try handle.seek(toOffset: 0)
        self.encoding = encoding ?? FileEncoding.detect(head)
        decoder = try TextStreamDecoder(self.encoding)
    }

    deinit { try? handle.close() }

    /// The next line's outcome (a frame to send, or why the line cannot be sent); nil at the end.
    func next() throws -> Result<FeedLine, FeedLineProblem>? {
        while readyIndex == ready.count {
            if finished { return nil }
            ready.removeAll(keepingCapacity: true)
            readyIndex = 0
            try readChunk()
        }
        defer { readyIndex += 1 }
        return ready[readyIndex]
    }

    private func readChunk() throws {
        let data = try handle.read(upToCount: Self.chunkBytes) ?? Data()
        bytesRead += Int64(data.count)
        let last = data.isEmpty
        let text: String
        do {
            text = try decoder.decode([UInt8](data), last: last)
        } catch {
            throw FeedFileError(message: "\(path): \(error)")
        }
        if last { finished = true }
        csv ? takeRecords(text, last: last) : takeLines(text, last: last)
    }

    private func takeLines(_ text: String, last: Bool) {
        partialLine += text
        // Split on the scalar: as Characters, "\r\n" is one and would never match "\n".
        var lines = partialLine.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        partialLine = last ? "" : String(String.UnicodeScalarView(lines.removeLast()))
        for line in lines {
            lineNumber += 1
            let text = Substring(String(String.UnicodeScalarView(line)))
            if let outcome = FeedFile.jsonLine(text, number: lineNumber, base: base, type: type) { ready.append(outcome) }
        }
    }

    private func takeRecords(_ text: String, last: Bool) {
        var records = rows.feed(text)
        if last, let final = rows.finish() { records.append(final) }
        for row in records {
            recordNumber += 1
            guard let header else {
                self.header = row
                continue
            }
            if let outcome = FeedFile.csvRecord(row, header: header, number: recordNumber, base: base, type: type ?? "") {
                ready.append(outcome)
            }
        }
    }
}
