import DudaoCerts
import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

/// SIGHUP on the real dudao-ingest: the revocation list, the access file and the TLS files are
/// read again without a restart; a bad file is refused and the old one stays in force.
@Suite struct ReloadTests {
    static func reload(_ ingest: IngestFixture) {
        kill(ingest.process.pid, SIGHUP)
    }

    /// Waits until the ingest's log holds `text` (a reload is logged once done).
    static func waitForLog(_ ingest: IngestFixture, _ text: String, count: Int = 1) async throws {
        for _ in 0..<200 {
            let log = (try? String(contentsOfFile: ingest.process.stderrPath, encoding: .utf8)) ?? ""
            if log.components(separatedBy: text).count - 1 >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the ingest never logged \"\(text)\"")
    }

    @Test func aRevokedIntegratorIsCutOffWithoutARestart() async throws {
        let ingest = try IngestFixture(revocationList: true)
        defer { ingest.stop() }
        let pid = ingest.process.pid
        let open = try await ingest.connect(as: "town-dongcheng")
        #expect(try await open.request(Frames.query("s1", "ingest.status"))["kind"] != "error")

        // The CA revokes town-dongcheng's certificate; the file reaches the host; SIGHUP.
        try RevocationFile.revoke(certificateAt: "\(ingest.pki.directory)/town-dongcheng.pem", in: ingest.root.path, wholeIdentity: false)
        Self.reload(ingest)
        try await Self.waitForLog(ingest, "reloaded TLS files")
        #expect(ingest.process.pid == pid && ingest.process.process.isRunning)

        // Its open connection is closed, and a new one is refused right after the handshake.
        #expect(try await open.receive() == nil)
        await #expect(throws: (any Error).self) {
            let client = try await ingest.connect(as: "town-dongcheng")
            _ = try await client.request(Frames.query("s2", "ingest.status"))
        }
        let log = try String(contentsOfFile: ingest.process.stderrPath, encoding: .utf8)
        #expect(log.contains("refused a revoked client certificate"))
        #expect(log.contains("town-dongcheng"))
        // Everyone else still works.
        let census = try await ingest.connect(as: "kg-census-system")
        #expect(try await census.request(Frames.feed("t1", "registry.town", SampleFeeds.town))["status"] == "accepted")
        await census.close()
    }

    @Test func aBadAccessFileIsRefusedAndTheOldOneStays() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let client = try await ingest.connect(as: "kg-census-system")
        #expect(try await client.request(Frames.feed("t1", "registry.town", SampleFeeds.town))["status"] == "accepted")

        // A typo on line 3: the reload is refused with the file and the line; the grants stay.
        try ingest.root.write("access.json", "{\"identities\": {\n  \"operator\": {\"role\": \"operator\"},\n  \"kg-census-system\" {}\n}}")
        Self.reload(ingest)
        try await Self.waitForLog(ingest, "reload refused")
        let log = try String(contentsOfFile: ingest.process.stderrPath, encoding: .utf8)
        #expect(log.contains("access.json: line 3"))
        let again = try await ingest.connect(as: "kg-census-system")
        #expect(try await again.request(Frames.feed("t2", "registry.town", SampleFeeds.town))["kind"] == "ack")

        // A good new file takes effect for new connections: kg-census-system loses registry.*.
        try ingest.root.write("access.json", #"{"identities": {"operator": {"role": "operator"}, "kg-census-system": {"feeds": ["preschool.*"]}}}"#)
        Self.reload(ingest)
        try await Self.waitForLog(ingest, "reloaded access file")
        let later = try await ingest.connect(as: "kg-census-system")
        let refused = try await later.request(Frames.feed("t3", "registry.town", SampleFeeds.town))
        #expect(refused["error"]?["code"] == "forbidden")
        // The connection opened before the reload keeps the grants it had.
        #expect(try await again.request(Frames.feed("t4", "registry.town", SampleFeeds.town))["kind"] == "ack")
        await client.close()
        await again.close()
        await later.close()
    }

    @Test func checkConfigValidatesWithoutStarting() throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let good = try runTool("dudao-ingest", ["check-config", "--config", ingest.configPath])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.hasPrefix("ok: "))
        try ingest.root.write("broken.json", #"{"listen": {"port": 70000}, "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/dudao-ingest.key"}}"#)
        let bad = try runTool("dudao-ingest", ["check-config", "--config", ingest.root.file("broken.json")])
        #expect(bad.status == 78)
        #expect(bad.output.contains("listen.port must be from 0 to 65535"))
        try ingest.root.write("nokey.json", #"{"tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/missing.key"}, "access_file": "access.json"}"#)
        let noKey = try runTool("dudao-ingest", ["check-config", "--config", ingest.root.file("nokey.json")])
        #expect(noKey.status == 78)
        #expect(noKey.output.contains("missing.key"))
    }
}
