import DudaoCore
import Foundation

/// An .xlsx workbook's feeds, read like a feed file: ``WorkbookFeeds`` first writes them to a
/// temporary JSON Lines file (one row at a time: the XML parser pushes rows, the sender pulls
/// them), then they are read back line by line. Records are numbered from 1 across the
/// workbook (what `--resume` counts); each carries its place, `sheet!row`.
final class WorkbookFeedStream: FeedRecords {
    let size: Int64
    private(set) var bytesRead: Int64 = 0
    /// Sheets skipped because their names are not feed types.
    let skippedSheets: [String]

    private let file: URL
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false
    private var record = 0

    init(path: String) throws {
        file = FileManager.default.temporaryDirectory.appendingPathComponent("dudao-send-\(UUID().uuidString).jsonl")
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw FeedFileError(message: "cannot write a temporary file in \(FileManager.default.temporaryDirectory.path)")
        }
        let out = try FileHandle(forWritingTo: file)
        var pendingBytes: [UInt8] = []
        var workbook = WorkbookFeeds(path: path)
        do {
            try workbook.read { item in
                var line = JSONObject()
                switch item {
                case .feed(let label, let frame, let id):
                    line["label"] = .string(label)
                    line["id"] = .string(id)
                    line["frame"] = frame
                case .problem(let label, let message):
                    line["label"] = .string(label)
                    line["problem"] = .string(message)
                }
                pendingBytes.append(contentsOf: JSONWriter.string(.object(line)).utf8)
                pendingBytes.append(0x0A)
                if pendingBytes.count >= 1 << 20 {
                    try out.write(contentsOf: pendingBytes)
                    pendingBytes.removeAll(keepingCapacity: true)
                }
            }
            try out.write(contentsOf: pendingBytes)
            try out.close()
        } catch {
            try? out.close()
            try? FileManager.default.removeItem(at: file)
            throw error
        }
        skippedSheets = workbook.skippedSheets
        size = Int64((try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0)
        handle = try FileHandle(forReadingFrom: file)
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(at: file)
    }

    func next() throws -> Result<FeedLine, FeedLineProblem>? {
        guard let line = try nextLine() else { return nil }
        record += 1
        guard let object = try? JSONParser.parse(line).objectValue else {
            return .failure(FeedLineProblem(line: record, message: "unreadable converted row"))
        }
        let label = object["label"]?.stringValue
        if let problem = object["problem"]?.stringValue {
            return .failure(FeedLineProblem(line: record, message: problem, label: label))
        }
        return .success(FeedLine(line: record, frame: object["frame"] ?? .null, id: object["id"]?.stringValue, label: label))
    }

    private func nextLine() throws -> String? {
        while true {
            if let end = buffer[start...].firstIndex(of: 0x0A) {
                defer { start = end + 1 }
                return String(decoding: buffer[start..<end], as: UTF8.self)
            }
            if finished { return nil }
            buffer.removeFirst(start)
            start = 0
            let data = try handle.read(upToCount: 1 << 20) ?? Data()
            bytesRead += Int64(data.count)
            if data.isEmpty { finished = true } else { buffer.append(contentsOf: data) }
        }
    }
}
