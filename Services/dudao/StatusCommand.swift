import ArgumentParser
import DudaoCore
import DudaoWire

/// `dudao status`: the ingest's log head, sizes and consumer positions.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show dudao-ingest's status.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let client = try await connection.connect()
        let reply = try await client.request(["v": 1, "kind": "query", "id": "status", "type": "ingest.status", "body": [:]])
        await client.close()
        print(JSONWriter.string(reply["body"] ?? reply))
    }
}

/// `dudao query TYPE BODY`: any query, printed as JSON.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query", abstract: "Send one query and print the result as JSON.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The query type, e.g. ingest.status or indicators.evaluate.")
    var type: String

    @Argument(help: "The query body as JSON.")
    var body: String = "{}"

    func run() async throws {
        guard let parsed = try? JSONParser.parse(body), case .object = parsed else {
            throw ValidationError("the body must be a JSON object")
        }
        let client = try await connection.connect()
        let reply = try await client.request(["v": 1, "kind": "query", "id": "q1", "type": .string(type), "body": parsed])
        await client.close()
        print(JSONWriter.string(reply))
        if reply["kind"]?.stringValue != "result" { throw ExitCode(1) }
    }
}

/// `dudao tail`: subscribes to the ingest log and prints records as JSON Lines.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail", abstract: "Print the ingest log as JSON Lines, from a sequence number on.")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "First sequence number to print.")
    var from: Int64 = 1

    @Option(help: "Stop after this many records (default: follow forever).")
    var count: Int?

    @Flag(help: "Stop once the log head at the time of subscribing has been printed.")
    var toHead = false

    func run() async throws {
        let client = try await connection.connect()
        let credit = 1000
        try await client.send(["v": 1, "kind": "subscribe", "id": "tail", "body": ["from": .int(from), "credit": .int(Int64(credit))]])
        guard let first = try await client.receive(), first["kind"]?.stringValue == "result" else {
            throw ValidationError("subscription refused")
        }
        let head = first["body"]?["head"]?.intValue ?? 0
        if toHead && head < from { await client.close(); return }
        var printed = 0
        var sinceGrant = 0
        while let frame = try await client.receive() {
            print(JSONWriter.string(frame))
            printed += 1
            sinceGrant += 1
            let seq = frame["body"]?["seq"]?.intValue ?? 0
            if let count, printed >= count { break }
            if toHead && seq >= head { break }
            if sinceGrant >= credit / 2 {
                try await client.send(["v": 1, "kind": "credit", "id": "c", "body": ["credit": .int(Int64(sinceGrant))]])
                sinceGrant = 0
            }
        }
        await client.close()
    }
}
