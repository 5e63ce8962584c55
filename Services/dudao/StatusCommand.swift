import ArgumentParser
import DudaoCore
import DudaoWire
import Foundation

/// `dudao status`: every service, each reached as its own identity: up or not, and its figures.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show every service's status (exit 1 if one is unreachable).")

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "dudao-ingest's HOST:PORT (default: --host and 7401).")
    var ingest: String?
    @Option(help: "dudao-indicators' HOST:PORT (default: --host and 7402).")
    var indicators: String?
    @Option(help: "dudao-safety's HOST:PORT (default: --host and 7403).")
    var safety: String?
    @Option(help: "dudao-notify's HOST:PORT (default: --host and 7404).")
    var notify: String?
    @Flag(help: "Only the ingest (as before): its status as JSON.")
    var ingestOnly = false

    func run() async throws {
        if ingestOnly {
            let client = try await options(for: "dudao-ingest", address: ingest, defaultPort: nil).connect()
            let reply = try await client.request(Frame.query("ingest.status", id: "status"))
            await client.close()
            print(JSONWriter.string(reply["body"] ?? reply))
            return
        }
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let targets: [(String, String?, Int, String, JSONObject)] = [
            ("dudao-ingest", ingest, 7401, "ingest.status", [:]),
            ("dudao-indicators", indicators, 7402, "indicators.evaluate", ["year": .int(Int64(year)), "scope": "city"]),
            ("dudao-safety", safety, 7403, "safety.status", [:]),
            ("dudao-notify", notify, 7404, "notify.status", [:]),
        ]
        var down = 0
        for (service, address, defaultPort, query, body) in targets {
            let options = try options(for: service, address: address, defaultPort: defaultPort)
            let place = "\(options.host):\(options.port)"
            do {
                let client = try await options.connect(service: service)
                let reply = try await client.request(Frame.query(query, id: "status", body: .object(body)))
                await client.close()
                print("\(service) \(place) up: \(Self.summary(query, reply))")
            } catch let error as ValidationError {
                throw error  // missing certificates: nothing can be reached
            } catch {
                down += 1
                print("\(service) \(place) DOWN: \(error)")
            }
        }
        if down > 0 { throw ExitCode(1) }
    }

    /// The connection options for `service`: its `--<service> HOST:PORT`, else `--host` with
    /// `defaultPort` (`nil`: `--port`).
    func options(for service: String, address: String?, defaultPort: Int?) throws -> ConnectionOptions {
        var options = connection
        if let address {
            guard let (host, port) = Self.split(address) else { throw ValidationError("\(service): HOST:PORT expected, got \(address)") }
            (options.host, options.port) = (host, port)
        } else if let defaultPort {
            options.port = defaultPort
        }
        return options
    }

    static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        let host = address[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host, port)
    }

    /// One line of figures; the indicators' evaluation is summed up by status.
    static func summary(_ query: String, _ reply: JSONValue) -> String {
        guard case .result(_, let body) = Answer(reply) else { return JSONWriter.string(reply) }
        if query == "indicators.evaluate", let list = body["indicators"]?.arrayValue {
            var counts: [String: Int] = [:]
            for indicator in list { counts[indicator["status"]?.stringValue ?? "?", default: 0] += 1 }
            return "year \(body["year"]?.intValue ?? 0): " + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        return JSONWriter.string(body)
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
        let client = try await connection.connect(service: ConnectionOptions.service(forQuery: type))
        let reply = try await client.request(Frame.query(type, id: "q1", body: parsed))
        await client.close()
        print(JSONWriter.string(reply))
        guard case .result = Answer(reply) else { throw ExitCode(1) }
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
        try await client.send(Frame.subscribe(id: "tail", Frame.Subscription(from: from, credit: Int64(credit))))
        guard let first = try await client.receive(), case .result(_, let accepted) = Answer(first) else {
            throw ValidationError("subscription refused")
        }
        let head = accepted["head"]?.intValue ?? 0
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
                try await client.send(Frame.credit(sinceGrant, id: "c"))
                sinceGrant = 0
            }
        }
        await client.close()
    }
}
