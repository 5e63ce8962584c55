import ArgumentParser
import DudaoCore
import DudaoReport
import DudaoWire
import Foundation

/// `dudao report`: the monthly progress report (六(四): the education bureau reports progress to
/// the leading group every month), built from `dudao-indicators`; with `--readiness`, the
/// assessment readiness report (every criterion met or not, its gap, who makes it).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Build the monthly progress report (html, md, csv or xlsx), or with --readiness the assessment readiness report (html, md, csv).")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "The plan year reported on.")
    var year: Int

    @Option(help: "The month of the report (1-12); what changed is measured against the previous month's snapshot.")
    var month: Int?

    @Flag(help: "The assessment readiness report instead: each catalog's criteria, their gaps and who makes them.")
    var readiness = false

    @Option(help: "With --readiness: one catalog (national-2020, enping-2023-2025); default every catalog loaded.")
    var catalog: String?

    @Option(help: "html, md, csv or xlsx (xlsx needs --out).")
    var format: String = "html"

    @Option(help: "Write to this file instead of standard output.")
    var out: String?

    func validate() throws {
        if readiness {
            guard month == nil else { throw ValidationError("--readiness reports a year; leave out --month") }
            guard format != "xlsx" else { throw ValidationError("--readiness writes html, md or csv") }
        } else {
            guard let month, (1...12).contains(month) else { throw ValidationError("--month must be from 1 to 12") }
            guard catalog == nil else { throw ValidationError("--catalog goes with --readiness") }
        }
        guard ["html", "md", "csv", "xlsx"].contains(format) else { throw ValidationError("--format must be html, md, csv or xlsx") }
        if format == "xlsx", out == nil { throw ValidationError("--format xlsx needs --out FILE.xlsx") }
    }

    func run() async throws {
        var options = connection
        if options.port == 7401 { options.port = 7402 }
        let client = try await options.connect(service: "dudao-indicators")
        func ask(_ type: String, _ body: JSONValue) async throws -> JSONValue {
            do {
                return try await client.query(type, id: "r", body: body)
            } catch let refused as QueryRefused {
                throw ValidationError("\(refused.type) failed: \(refused.error.map { "\($0)" } ?? JSONWriter.string(refused.frame))")
            }
        }
        if readiness {
            let report = try await ReadinessReport.fetch(year: year, catalog: catalog, ask: ask)
            await client.close()
            switch format {
            case "md": try emit(report.markdown())
            case "csv": try emit(out == nil ? report.csv() : report.csvWithByteOrderMark())
            default: try emit(report.html())
            }
            return
        }
        let report = try await ProgressReport.fetch(year: year, month: month ?? 1, take: true, ask: ask)
        await client.close()
        if format == "xlsx", let out {
            try ReportWorkbook.write(report, to: out)
            print("wrote \(out)")
            return
        }
        switch format {
        case "md": try emit(report.markdown())
        // A file gets the byte-order mark Excel needs to read UTF-8; standard output stays plain.
        case "csv": try emit(out == nil ? report.csv() : report.csvWithByteOrderMark())
        default: try emit(report.html())
        }
    }

    /// Writes `text` to `--out`, or to standard output.
    func emit(_ text: String) throws {
        if let out {
            try text.write(toFile: out, atomically: true, encoding: .utf8)
            print("wrote \(out)")
        } else {
            print(text, terminator: "")
        }
    }
}
