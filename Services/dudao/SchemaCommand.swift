import ArgumentParser
import DudaoCore
import DudaoFeeds
import Foundation

/// `dudao schema`: the JSON Schemas (draft 2020-12) of the envelope and every feed body,
/// generated from the validator's declarations (deploy/docs/schemas/ holds them as shipped).
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Write the JSON Schemas (draft 2020-12) of the feed envelope and of every feed type's body.")

    @Option(help: "The folder to write envelope.schema.json and feeds/TYPE.schema.json into.")
    var out: String = "schemas"

    func run() throws {
        let files = [("envelope.schema.json", FeedSchemas.envelope())]
            + FeedType.allCases.map { (FeedSchemas.fileName($0), FeedSchemas.feed($0)) }
        try FileManager.default.createDirectory(atPath: out + "/feeds", withIntermediateDirectories: true)
        for (name, schema) in files {
            try JSONWriter.pretty(schema).write(toFile: out + "/" + name, atomically: true, encoding: .utf8)
        }
        print("wrote \(files.count) schemas to \(out)")
    }
}
