import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation

/// `dudao send FILE...`: sends feed files to `dudao-ingest` and prints what became of each line.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send JSON Lines or CSV feed files; print each line's outcome and a summary. Safe to re-run (stable ids).")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Feed type for bare bodies (JSON Lines) and CSV rows, e.g. preschool.census.")
    var type: String?

    @Option(help: "Frames in flight at once.")
    var window: Int = 256

    @Flag(help: "Print only rejected lines and the summary.")
    var quiet = false

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
        let client = try await connection.connect()
        var totals: [String: Int] = [:]
        var rejected = 0
        for path in files {
            let lines = try FeedFile.read(path: path, type: type)
            var sendable: [FeedLine] = []
            for entry in lines {
                switch entry {
                case .success(let line): sendable.append(line)
                case .failure(let problem):
                    print("\(path):\(problem.line)\t-\trejected\tinvalid_line\t\(problem.message)")
                    rejected += 1
                    totals["rejected", default: 0] += 1
                }
            }
            var start = 0
            while start < sendable.count {
                let chunk = sendable[start..<min(start + max(window, 1), sendable.count)]
                for line in chunk { try await client.send(line.frame, flush: false) }
                client.flush()
                for line in chunk {
                    guard let reply = try await client.receive() else { throw WireClientError.closed }
                    let outcome = Self.describe(reply, chinese: chinese)
                    totals[outcome.status, default: 0] += 1
                    if outcome.status == "rejected" { rejected += 1 }
                    if !quiet || outcome.status == "rejected" {
                        print("\(path):\(line.line)\t\(line.id ?? "-")\t\(outcome.status)\(outcome.detail.isEmpty ? "" : "\t" + outcome.detail)")
                    }
                    if reply["kind"]?.stringValue == "error" { throw WireClientError.closed }
                }
                start += chunk.count
            }
        }
        await client.close()
        let order = ["accepted", "duplicate", "stale", "rejected"]
        let summary = order.map { "\(totals[$0, default: 0]) \($0)" }.joined(separator: ", ")
        print("summary: \(totals.values.reduce(0, +)) lines: \(summary)")
        if rejected > 0 { throw ExitCode(1) }
    }

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
