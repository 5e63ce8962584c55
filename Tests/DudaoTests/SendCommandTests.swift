import DudaoTesting
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

    @Test func missingCertificatesAreNamed() throws {
        let result = try runTool("dudao", ["status", "--certs", "/nonexistent", "--port", "1"])
        #expect(result.status != 0)
        #expect(result.error.contains("/nonexistent/ca.pem"))
    }
}
