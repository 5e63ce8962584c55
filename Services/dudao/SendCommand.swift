import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation

/// `dudao send FILE...`: sends feed files to `dudao-ingest` and prints what became of each line.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send JSON Lines or CSV feed files (UTF-8 or GB18030, streamed); print each line's outcome and a summary. Safe to re-run (stable ids); --resume goes on after an interruption.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Feed type for bare bodies (JSON Lines) and CSV rows, e.g. preschool.census.")
    var type: String?

    @Option(help: "Frames in flight at once.")
    var window: Int = 256

    @Flag(help: "Print only rejected lines and the summary.")
    var quiet = false

    @Option(help: "Text encoding of the files: auto (UTF-8, with or without a BOM, else GB18030), utf-8 or gb18030.")
    var encoding: String?

    @Flag(help: "Print a progress line on standard error (the default when it is a terminal).")
    var progress = false

    @Flag(help: "Go on after the line an interrupted run of the same file reached (its state file FILE.dudao-send).")
    var resume = false

    @Option(help: "Language of rejection messages: zh or en (default: zh when LC_ALL, LC_MESSAGES or LANG is a Chinese locale).")
    var lang: String?

    @Argument(help: "Files to send, in order (.jsonl/.json: JSON Lines; .csv: CSV).")
    var files: [String]

    func validate() throws {
        if let lang, !["zh", "en"].contains(lang) { throw ValidationError("--lang must be zh or en") }
    }

    /// Whether messages are printed in Chinese: `--lang`, else the first of LC_ALL, LC_MESSAGES,
    /// LANG that is set (`zh_CN.UTF-8` → yes).
    static func chinese(lang: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if let lang { return lang == "zh" }
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        return locale?.lowercased().hasPrefix("zh") ?? false
    }

    func run() async throws {
        let chinese = Self.chinese(lang: lang)
        let encoding = try encoding.map { name -> FileEncoding? in
            if name == "auto" { return nil }
            guard let known = FileEncoding(rawValue: name) else { throw ValidationError("--encoding must be auto, utf-8 or gb18030") }
            return known
        } ?? nil
        let client = try await connection.connect()
        var totals: [String: Int] = [:]
        var rejected = 0
        let showProgress = progress || isatty(2) != 0
        for path in files {
            let stream = try FeedFile.open(path: path, type: type, encoding: encoding)
            var state = SendState(file: path)
            var skipUpTo = 0
            if resume, let saved = state.load() {
                guard saved.size == stream.size else {
                    throw ValidationError("\(path) changed since the interrupted run (\(saved.size) bytes then, \(stream.size) now); send it without --resume")
                }
                skipUpTo = saved.doneLine
                for (status, count) in saved.totals { totals[status, default: 0] += count }
                rejected += saved.totals["rejected", default: 0]
                FileHandle.standardError.write(Data("\(path): resuming after line \(skipUpTo)\n".utf8))
            }
            var fileTotals: [String: Int] = [:]
            var meter = ProgressMeter(path: path, size: stream.size, enabled: showProgress)
            var doneLine = skipUpTo
            var chunk: [FeedLine] = []
            do {
                while true {
                    chunk.removeAll(keepingCapacity: true)
                    while chunk.count < max(window, 1), let entry = try stream.next() {
                        switch entry {
                        case .success(let line):
                            if line.line > skipUpTo { chunk.append(line) }
                        case .failure(let problem) where problem.line > skipUpTo:
                            print("\(path):\(problem.line)\t-\trejected\tinvalid_line\t\(problem.message)")
                            rejected += 1
                            fileTotals["rejected", default: 0] += 1
                        case .failure: break
                        }
                    }
                    if chunk.isEmpty { break }
                    for line in chunk { try await client.send(line.frame, flush: false) }
                    client.flush()
                    for line in chunk {
                        guard let reply = try await client.receive() else { throw WireClientError.closed }
                        let outcome = Self.describe(reply, chinese: chinese)
                        fileTotals[outcome.status, default: 0] += 1
                        if outcome.status == "rejected" { rejected += 1 }
                        if !quiet || outcome.status == "rejected" {
                            print("\(path):\(line.line)\t\(line.id ?? "-")\t\(outcome.status)\(outcome.detail.isEmpty ? "" : "\t" + outcome.detail)")
                        }
                        if reply["kind"]?.stringValue == "error" { throw WireClientError.closed }
                        doneLine = line.line
                    }
                    state.save(SendState.Saved(size: stream.size, doneLine: doneLine, totals: merged(totals, fileTotals)), every: .seconds(1))
                    meter.update(bytes: stream.bytesRead, lines: doneLine)
                }
            } catch {
                meter.finish()
                state.save(SendState.Saved(size: stream.size, doneLine: doneLine, totals: merged(totals, fileTotals)), every: nil)
                FileHandle.standardError.write(
                    Data("\(path): interrupted after line \(doneLine) (\(error)); every line up to it was answered. Run the same command with --resume to go on from there.\n".utf8))
                throw error
            }
            meter.finish()
            state.remove()
            for (status, count) in fileTotals { totals[status, default: 0] += count }
        }
        await client.close()
        let order = ["accepted", "duplicate", "stale", "rejected"]
        let summary = order.map { "\(totals[$0, default: 0]) \($0)" }.joined(separator: ", ")
        print("summary: \(totals.values.reduce(0, +)) lines: \(summary)")
        if rejected > 0 { throw ExitCode(1) }
    }

    private func merged(_ a: [String: Int], _ b: [String: Int]) -> [String: Int] { a.merging(b, uniquingKeysWith: +) }

    /// A reply as `(status, detail)`: `accepted`, `duplicate`, `stale`, or `rejected` with
    /// `code path message` (`message_zh` when `chinese`).
    static func describe(_ reply: JSONValue, chinese: Bool = false) -> (status: String, detail: String) {
        switch reply["kind"]?.stringValue {
        case "ack": return (reply["status"]?.stringValue ?? "?", "")
        case "nack", "error":
            let error = WireError(json: reply["error"]) ?? WireError(.internal, "unreadable error")
            return ("rejected", "\(error.code.rawValue)\t\(error.path ?? "-")\t\(chinese ? error.messageZh : error.message)")
        default: return ("?", JSONWriter.string(reply))
        }
    }
}
