import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation

/// `dudao report`: the monthly progress report (六(四): the education bureau reports progress to
/// the leading group every month), built from `dudao-indicators`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Build the monthly progress report (html, md or csv) from dudao-indicators.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The plan year reported on.")
    var year: Int

    @Option(help: "The month of the report (1-12); what changed is measured against the previous month's snapshot.")
    var month: Int

    @Option(help: "html, md or csv.")
    var format: String = "html"

    @Option(help: "Write to this file instead of standard output.")
    var out: String?

    func validate() throws {
        guard (1...12).contains(month) else { throw ValidationError("--month must be from 1 to 12") }
        guard ["html", "md", "csv"].contains(format) else { throw ValidationError("--format must be html, md or csv") }
    }

    func run() async throws {
        var options = connection
        if options.port == 7401 { options.port = 7402 }
        let client = try await options.connect(service: "dudao-indicators")
        func ask(_ type: String, _ body: JSONValue) async throws -> JSONValue {
            let reply = try await client.request(["v": 1, "kind": "query", "id": "r", "type": .string(type), "body": body])
            guard reply["kind"]?.stringValue == "result", let result = reply["body"] else {
                throw ValidationError("\(type) failed: \(JSONWriter.string(reply))")
            }
            return result
        }
        let city = try await ask("indicators.evaluate", ["year": .int(Int64(year)), "scope": "city"])
        let towns = try await ask("indicators.towns", ["year": .int(Int64(year))])
        _ = try await ask("indicators.snapshot", ["year": .int(Int64(year)), "month": .int(Int64(month)), "take": true])
        let previous: JSONValue? =
            month > 1
            ? try await ask("indicators.snapshot", ["year": .int(Int64(year)), "month": .int(Int64(month - 1))])["snapshot"]
            : try await ask("indicators.snapshot", ["year": .int(Int64(year - 1)), "month": 12])["snapshot"]
        var histories: [String: JSONValue] = [:]
        for indicator in city["indicators"]?.arrayValue ?? [] {
            guard let id = indicator["id"]?.stringValue else { continue }
            histories[id] = try await ask("indicators.history", ["indicator": .string(id), "scope": "city"])["history"]
        }
        await client.close()
        let report = ProgressReport(
            year: year, month: month, city: city["indicators"]?.arrayValue ?? [], towns: towns["towns"]?.arrayValue ?? [],
            previous: previous == .null ? nil : previous, histories: histories, generatedAt: Timestamp.now())
        let text: String
        switch format {
        case "md": text = report.markdown()
        case "csv": text = report.csv()
        default: text = report.html()
        }
        if let out {
            try text.write(toFile: out, atomically: true, encoding: .utf8)
            print("wrote \(out)")
        } else {
            print(text, terminator: "")
        }
    }
}
