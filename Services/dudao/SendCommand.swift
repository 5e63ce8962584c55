import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation

/// `dudao send FILE...`: sends feed files to `dudao-ingest` and prints what became of each line.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send JSON Lines, CSV (UTF-8 or GB18030, streamed) or Excel (.xlsx, a sheet per feed type) feed files; print each line's outcome and a summary. Safe to re-run (stable ids); --resume goes on after an interruption.")

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

    @Argument(help: "Files to send, in order (.jsonl/.json: JSON Lines; .csv: CSV; .xlsx: a workbook, one sheet per feed type, as `dudao template` writes).")
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
            let identity = SendState.identity(of: path)
            // This file's counts, for the lines up to `doneLine` (what a resume adds back).
            var fileTotals: [String: Int] = [:]
            var skipUpTo = 0
            if resume, let saved = state.load() {
                guard saved.identity == identity else {
                    throw ValidationError("\(path) changed since the interrupted run (size or modification time); send it without --resume")
                }
                skipUpTo = saved.doneLine
                fileTotals = saved.totals
                FileHandle.standardError.write(Data("\(path): resuming after line \(skipUpTo)\n".utf8))
            }
            var meter = ProgressMeter(path: path, size: stream.size, enabled: showProgress)
            var doneLine = skipUpTo
            // A "retry later" refusal (overloaded, internal): the resume point stays before it.
            var retryFrom: Int?
            var chunk: [Result<FeedLine, FeedLineProblem>] = []
            func saved() -> SendState.Saved { SendState.Saved(identity: identity, doneLine: doneLine, totals: fileTotals) }
            func answered(_ line: Int, status: String, retryable: Bool = false) {
                fileTotals[status, default: 0] += 1
                if status == "rejected" { rejected += 1 }
                if retryable, retryFrom == nil { retryFrom = line }
                if retryFrom == nil { doneLine = line }
            }
            do {
                while true {
                    chunk.removeAll(keepingCapacity: true)
                    var frames = 0
                    while frames < max(window, 1), let entry = try stream.next() {
                        switch entry {
                        case .success(let line) where line.line > skipUpTo:
                            chunk.append(entry)
                            frames += 1
                        case .failure(let problem) where problem.line > skipUpTo: chunk.append(entry)
                        default: break
                        }
                    }
                    if chunk.isEmpty { break }
                    for case .success(let line) in chunk { try await client.send(line.frame, flush: false) }
                    client.flush()
                    for entry in chunk {
                        switch entry {
                        case .failure(let problem):
                            print("\(path):\(problem.place)\t-\trejected\tinvalid_line\t\(problem.message)")
                            answered(problem.line, status: "rejected")
                        case .success(let line):
                            guard let reply = try await client.receive() else { throw WireClientError.closed }
                            let answer = Answer(reply)
                            let outcome = Self.describe(answer, chinese: chinese)
                            let code = answer.refusal?.code
                            answered(line.line, status: outcome.status, retryable: code == .overloaded || code == .internal)
                            if !quiet || outcome.status == "rejected" {
                                print("\(path):\(line.place)\t\(line.id ?? "-")\t\(outcome.status)\(outcome.detail.isEmpty ? "" : "\t" + outcome.detail)")
                            }
                            if case .error = answer { throw WireClientError.closed }
                        }
                    }
                    if retryFrom == nil { state.save(saved(), every: .seconds(1)) }
                    meter.update(bytes: stream.bytesRead, lines: doneLine)
                }
            } catch {
                meter.finish()
                state.save(saved(), every: nil)
                FileHandle.standardError.write(
                    Data("\(path): interrupted after line \(doneLine) (\(error)); every line up to it was answered. Run the same command with --resume to go on from there.\n".utf8))
                throw error
            }
            meter.finish()
            if let retryFrom {
                state.save(saved(), every: nil)
                FileHandle.standardError.write(
                    Data("\(path): line \(retryFrom) and others were refused with \"retry later\"; run the same command with --resume to send again from line \(retryFrom)\n".utf8))
            } else {
                state.remove()
            }
            for (status, count) in fileTotals { totals[status, default: 0] += count }
        }
        await client.close()
        let order = ["accepted", "duplicate", "stale", "rejected"]
        let summary = order.map { "\(totals[$0, default: 0]) \($0)" }.joined(separator: ", ")
        print("summary: \(totals.values.reduce(0, +)) lines: \(summary)")
        if rejected > 0 { throw ExitCode(1) }
    }

    /// A reply as `(status, detail)`: `accepted`, `duplicate`, `stale`, or `rejected` with
    /// `code path message` (`message_zh` when `chinese`).
    static func describe(_ answer: Answer, chinese: Bool = false) -> (status: String, detail: String) {
        switch answer {
        case .ack(_, let status): return (status.rawValue, "")
        case .nack(_, let error), .error(let error):
            return ("rejected", "\(error.code.rawValue)\t\(error.path ?? "-")\t\(chinese ? error.messageZh : error.message)")
        case .result(_, let body): return ("?", JSONWriter.string(body))
        case .other(let frame): return ("?", JSONWriter.string(frame))
        }
    }
}
