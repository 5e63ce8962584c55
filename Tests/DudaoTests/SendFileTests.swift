import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

@testable import dudao

/// `dudao send` reads what Excel writes (UTF-8 with a BOM, GB18030), streams the file instead of
/// loading it, and goes on after an interruption with `--resume`.
@Suite(.serialized) struct SendFileTests {
    /// `名𠀀园` in GB18030: a two-byte, a four-byte and a two-byte character.
    static let gbName: [UInt8] = [195, 251, 149, 50, 130, 54, 212, 176]

    @Test func gb18030IsDecodedTheSameWhateverTheChunks() throws {
        let text = Array("id,name\n1,".utf8) + Self.gbName + Array("\n".utf8)
        for size in [1, 2, 3, 5, 64] {
            let decoder = try TextStreamDecoder(.gb18030)
            var out = ""
            var start = 0
            while start < text.count {
                let end = min(start + size, text.count)
                out += try decoder.decode(Array(text[start..<end]), last: false)
                start = end
            }
            out += try decoder.decode([], last: true)
            #expect(out == "id,name\n1,名𠀀园\n", "chunks of \(size)")
        }
        #expect(FileEncoding.detect(Self.gbName) == .gb18030)
        #expect(FileEncoding.detect(Array("东成镇".utf8)) == .utf8)
        #expect(FileEncoding.detect([0xEF, 0xBB, 0xBF] + Array("x".utf8)) == .utf8)
        // A UTF-8 character split between chunks, and the BOM dropped.
        let decoder = try TextStreamDecoder(.utf8)
        let bytes = [0xEF, 0xBB, 0xBF] + Array("镇".utf8)
        let split = try decoder.decode(Array(bytes[0..<4]), last: false) + decoder.decode(Array(bytes[4...]), last: true)
        #expect(split == "镇")
    }

    /// The names the ingest stored for `registry.town`, read back through a log subscription.
    static func storedNames(_ ingest: IngestFixture) async throws -> [String: String] {
        let client = try await ingest.connect(as: "dudao-indicators")
        try await client.send(Frame.subscribe(body: ["from": 1, "credit": 1000]))
        let first = try #require(try await client.receive())
        let head = first["body"]?["head"]?.intValue ?? 0
        var names: [String: String] = [:]
        var seq: Int64 = 0
        while seq < head, let frame = try await client.receive() {
            seq = frame["body"]?["seq"]?.intValue ?? seq
            if let body = frame["body"]?["record"], let id = body["town_id"]?.stringValue { names[id] = body["name"]?.stringValue }
        }
        await client.close()
        return names
    }

    @Test func excelCSVInGB18030AndWithABOMIsRead() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let gb: [UInt8] =
            Array("town_id,name,kind\ndongcheng,".utf8) + [182, 171, 179, 201, 213, 242] + Array(",town\nencheng,".utf8)
            + [182, 247, 179, 199, 189, 214, 181, 192] + Array(",street\nrare,".utf8) + Self.gbName + Array(",town\n".utf8)
        try Data(gb).write(to: URL(fileURLWithPath: ingest.root.file("towns-gb.csv")))
        let common = ["--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator", "--lang", "en"]
        let sent = try runTool("dudao", ["send", "--type", "registry.town"] + common + [ingest.root.file("towns-gb.csv")])
        #expect(sent.output.contains("summary: 3 lines: 3 accepted"), "\(sent.output)\(sent.error)")
        // UTF-8 with the BOM Excel writes ("CSV UTF-8"): the first header cell is town_id, not "\u{FEFF}town_id".
        let bom = [0xEF, 0xBB, 0xBF] + Array("town_id,name,kind\nshuikou,水口镇,town\n".utf8)
        try Data(bom).write(to: URL(fileURLWithPath: ingest.root.file("towns-bom.csv")))
        let withBOM = try runTool("dudao", ["send", "--type", "registry.town"] + common + [ingest.root.file("towns-bom.csv")])
        #expect(withBOM.output.contains("summary: 1 lines: 1 accepted"), "\(withBOM.output)\(withBOM.error)")
        let names = try await Self.storedNames(ingest)
        #expect(names == ["dongcheng": "东成镇", "encheng": "恩城街道", "rare": "名𠀀园", "shuikou": "水口镇"])
        // A UTF-8 file read as GB18030 (told so): its bytes are refused by the decoder with a
        // clear message, not turned into garbled names.
        let forced = try runTool(
            "dudao", ["send", "--type", "registry.town", "--encoding", "gb18030"] + common + [ingest.root.file("towns-bom.csv")])
        #expect(forced.status != 0)
        #expect(forced.error.contains("not valid GB18030"), "\(forced.output)\(forced.error)")
    }

    /// Windows line ends (CRLF) in JSON Lines, and a GB18030 file whose first 64 KiB are ASCII:
    /// detected as UTF-8 from its start, it stops at the first Chinese byte and names the cure.
    @Test func crlfLinesAndALateChineseByte() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let common = ["--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator", "--lang", "en"]
        let crlf = #"{"town_id":"dongcheng","name":"东成镇","kind":"town"}"# + "\r\n" + #"{"town_id":"encheng","name":"恩城街道","kind":"street"}"# + "\r\n"
        try crlf.write(toFile: ingest.root.file("towns-crlf.jsonl"), atomically: true, encoding: .utf8)
        let sent = try runTool("dudao", ["send", "--type", "registry.town"] + common + [ingest.root.file("towns-crlf.jsonl")])
        #expect(sent.output.contains("summary: 2 lines: 2 accepted"), "\(sent.output)\(sent.error)")

        var late = Array("town_id,name,kind\n".utf8)
        for n in 0..<3000 { late += Array("t\(n),Town \(n) with a long ASCII name,town\n".utf8) }
        late += Array("late,".utf8) + Self.gbName + Array(",town\n".utf8)
        try Data(late).write(to: URL(fileURLWithPath: ingest.root.file("late.csv")))
        let auto = try runTool("dudao", ["send", "--type", "registry.town", "--quiet"] + common + [ingest.root.file("late.csv")])
        #expect(auto.status != 0)
        #expect(auto.error.contains("not valid UTF-8") && auto.error.contains("--encoding gb18030"), "\(auto.error)")
        let told = try runTool("dudao", ["send", "--type", "registry.town", "--quiet", "--encoding", "gb18030"] + common + [ingest.root.file("late.csv")])
        // The bad byte sits in the first 1 MiB chunk: nothing was sent by the refused run.
        #expect(told.output.contains("summary: 3001 lines: 3001 accepted, 0 duplicate"), "\(told.output)\(told.error)")
    }

    @Test func anInterruptedSendGoesOnWithResume() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        try await ingest.registerSampleKindergarten()
        let total = 20_000
        var lines = ""
        for n in 0..<total {
            lines += JSONWriter.string(SampleFeeds.heartbeat(device: "dev-\(n % 300)", at: Timestamp(millis: 1_780_000_000_000 + Int64(n) * 1000).description)) + "\n"
        }
        let file = ingest.root.file("heartbeats.jsonl")
        try lines.write(toFile: file, atomically: true, encoding: .utf8)
        let common = ["--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator", "--quiet", "--window", "64"]

        // kill -9 the ingest while the file is being sent: the CLI stops and says where.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(ServiceProcess.binDirectory)/dudao")
        process.arguments = ["send", "--type", "safety.heartbeat"] + common + [file]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stateFile = file + ".dudao-send"
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: stateFile), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        try ingest.killAndRestart()
        process.waitUntilExit()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(said.contains("interrupted after line"), "\(said)")
        let saved = try #require(SendState(file: file).load())
        #expect(saved.doneLine > 0 && saved.doneLine < total, "done_line \(saved.doneLine)")

        // --resume sends only what follows; then every line is stored exactly once.
        let resumed = try runTool("dudao", ["send", "--resume", "--type", "safety.heartbeat"] + common + [file])
        #expect(resumed.status == 0, "\(resumed.output)\(resumed.error)")
        #expect(resumed.error.contains("resuming after line \(saved.doneLine)"), "\(resumed.error)")
        #expect(!FileManager.default.fileExists(atPath: stateFile))
        #expect(resumed.output.contains("summary: \(total) lines:"), "\(resumed.output)")
        let again = try runTool("dudao", ["send", "--type", "safety.heartbeat"] + common + [file])
        #expect(again.output.contains("summary: \(total) lines: 0 accepted, \(total) duplicate, 0 stale, 0 rejected"), "\(again.output)")
    }
}
