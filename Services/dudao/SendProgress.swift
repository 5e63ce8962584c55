import DudaoCore
import Foundation

/// Where an interrupted `dudao send` of one file stopped: `FILE.dudao-send` beside it, written
/// at most once a second while the file is sent and removed when it is done. `--resume` skips
/// every line up to `done_line` (all of them were answered) and adds the counts so far.
struct SendState {
    struct Saved {
        /// `<size>:<modification time in ms>` of the file when it was sent.
        var identity: String
        var doneLine: Int
        /// This file's counts for its lines up to `doneLine`.
        var totals: [String: Int]
    }

    /// What tells the same file from an edited one: its size and modification time.
    static func identity(of path: String) -> String {
        let attributes = (try? FileManager.default.attributesOfItem(atPath: path)) ?? [:]
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970 * 1000) } ?? -1
        return "\(size):\(modified)"
    }

    let path: String
    private var lastSave = ContinuousClock.now - .seconds(60)

    init(file: String) { path = file + ".dudao-send" }

    func load() -> Saved? {
        guard let data = FileManager.default.contents(atPath: path), let value = try? JSONParser.parse(Array(data)),
            let identity = value["file"]?.stringValue, let done = value["done_line"]?.intValue
        else { return nil }
        var totals: [String: Int] = [:]
        for (status, count) in value["totals"]?.objectValue ?? [:] { totals[status] = Int(count.intValue ?? 0) }
        return Saved(identity: identity, doneLine: Int(done), totals: totals)
    }

    /// Writes `saved` (atomically), unless `every` has not passed since the last write.
    mutating func save(_ saved: Saved, every: Duration?) {
        if let every, ContinuousClock.now - lastSave < every { return }
        lastSave = .now
        var totals = JSONObject()
        for (status, count) in saved.totals.sorted(by: { $0.key < $1.key }) { totals[status] = .int(Int64(count)) }
        let value: JSONValue = ["file": .string(saved.identity), "done_line": .int(Int64(saved.doneLine)), "totals": .object(totals)]
        try? Data(JSONWriter.bytes(value)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The progress line on standard error, at most once a second: bytes read of the file's size,
/// lines answered and their rate.
struct ProgressMeter {
    let path: String
    let size: Int64
    let enabled: Bool
    private let started = ContinuousClock.now
    private var lastShown = ContinuousClock.now
    private var shown = false

    init(path: String, size: Int64, enabled: Bool) {
        self.path = path
        self.size = size
        self.enabled = enabled
    }

    mutating func update(bytes: Int64, lines: Int) {
        guard enabled, ContinuousClock.now - lastShown >= .seconds(1) else { return }
        lastShown = .now
        shown = true
        let seconds = max(0.001, Double((ContinuousClock.now - started).components.seconds))
        let percent = size > 0 ? Int(Double(bytes) * 100 / Double(size)) : 100
        let mb = { (value: Int64) in String(format: "%.1f", Double(value) / 1_048_576) }
        let line = "\r\(path): \(percent)% (\(mb(bytes)) of \(mb(size)) MB), line \(lines), \(Int(Double(lines) / seconds)) lines/s   "
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
