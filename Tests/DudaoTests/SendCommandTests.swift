import DudaoCore
import DudaoFeeds
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// `dudao send` through the real CLI executable against the real ingest.
@Suite(.serialized) struct SendCommandTests {
    @Test func sendsJSONLinesAndCSVAndIsSafeToRerun() throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        try ingest.root.write(
            "towns.jsonl",
            """
            {"town_id":"dongcheng","name":"东成镇","kind":"town"}
            {"town_id":"encheng","name":"恩城街道","kind":"street"}
            {"town_id":"bad","name":"X","kind":"village"}
            """)
        try ingest.root.write(
            "cohorts.csv",
            """
            town_id,year,age_3,age_4,age_5
            dongcheng,2025,400,410,420
            encheng,2025,"1,000",900,950
            atlantis,2025,1,1,1
            """)
        let common = ["--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator"]
        let first = try runTool("dudao", ["send", "--type", "registry.town"] + common + [ingest.root.file("towns.jsonl")])
        #expect(first.status == 1)  // one line rejected
        #expect(first.output.contains("towns.jsonl:3"))
        #expect(first.output.contains("invalid_field\tbody.kind"))
        #expect(first.output.contains("summary: 3 lines: 2 accepted, 0 duplicate, 0 stale, 1 rejected"))

        let csv = try runTool("dudao", ["send", "--type", "population.cohort"] + common + [ingest.root.file("cohorts.csv")])
        #expect(csv.output.contains("cohorts.csv:3"))  // "1,000" is a string, not a count
        #expect(csv.output.contains("unknown_reference\tbody.town_id"))
        #expect(csv.output.contains("summary: 3 lines: 1 accepted, 0 duplicate, 0 stale, 2 rejected"))

        let again = try runTool("dudao", ["send", "--type", "registry.town"] + common + [ingest.root.file("towns.jsonl")])
        #expect(again.output.contains("summary: 3 lines: 0 accepted, 2 duplicate, 0 stale, 1 rejected"))
    }

    /// Every nack carries `message_zh` beside `message`, both naming the field; `dudao send`
    /// prints the Chinese one in a Chinese locale, the English one with `--lang en`.
    @Test func rejectionsAreInChineseInAChineseLocale() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect()
        let nack = try await client.request(Frames.feed("t1", "registry.town", ["town_id": "x", "name": "X", "kind": "village"]))
        #expect(nack["error"]?["message"]?.stringValue?.hasPrefix("body.kind must be one of \"town\", \"street\"") == true)
        #expect(nack["error"]?["message_zh"] == "字段 body.kind 应为以下之一：\"town\"、\"street\"，实际为 \"village\"")
        let unknown = try await client.request(
            Frames.feed("c1", "population.cohort", ["town_id": "atlantis", "year": 2025, "age_3": 1, "age_4": 1, "age_5": 1]))
        #expect(unknown["error"]?["message_zh"] == "字段 body.town_id：镇街 \"atlantis\" 未登记；请先发送 registry.town")
        let missing = try await client.request(Frames.feed("c2", "population.cohort", ["town_id": "x", "year": 2025]))
        #expect(missing["error"]?["message_zh"] == "缺少字段 body.age_3，应为大于等于 0 的整数")
        await client.close()

        try ingest.root.write("towns.jsonl", #"{"town_id":"bad","name":"X","kind":"village"}"#)
        let common = ["--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator", "--type", "registry.town"]
        let zh = try runTool("dudao", ["send"] + common + [ingest.root.file("towns.jsonl")], environment: ["LC_ALL": "zh_CN.UTF-8"])
        #expect(zh.output.contains("invalid_field\tbody.kind\t字段 body.kind 应为以下之一"), "\(zh.output)")
        let en = try runTool(
            "dudao", ["send", "--lang", "en"] + common + [ingest.root.file("towns.jsonl")], environment: ["LC_ALL": "zh_CN.UTF-8"])
        #expect(en.output.contains("invalid_field\tbody.kind\tbody.kind must be one of"), "\(en.output)")
    }

    /// deploy/sample/examples holds every feed type, safety.alarm included, as JSON Lines and as
    /// CSV; each file, sent in order through the real CLI to a real ingest, is accepted whole.
    @Test(arguments: ["jsonl", "csv"]) func everyFeedTypeHasAnExampleThatIsAccepted(format: String) throws {
        let folder = EvaluationFixture.repoRoot + "/deploy/sample/examples"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix("." + format) }.sorted()
        let types = files.map { name in String(name.dropFirst(3).dropLast(format.count + 1)) }
        #expect(Set(types) == Set(FeedType.allCases.map(\.rawValue)), "\(types)")
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let common = ["--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator"]
        for (file, type) in zip(files, types) {
            let typed = format == "csv" ? ["--type", type] : []
            let sent = try runTool("dudao", ["send", "--lang", "en"] + typed + common + [folder + "/" + file])
            #expect(sent.status == 0, "\(file): \(sent.output)\(sent.error)")
            #expect(sent.output.contains(" 0 rejected"), "\(file): \(sent.output)")
            #expect(!sent.output.contains(" 0 accepted,"), "\(file): \(sent.output)")
        }
    }

    @Test func missingCertificatesAreNamed() throws {
        let result = try runTool("dudao", ["status", "--certs", "/nonexistent", "--port", "1"])
        #expect(result.status != 0)
        #expect(result.error.contains("/nonexistent/ca.pem"))
    }
}
