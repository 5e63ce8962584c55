import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `/metrics`, `/health` and `/ready` of the real dudao-ingest, on their own port.
@Suite struct MetricsEndpointTests {
    static func get(_ url: String) async throws -> (Int, String) {
        for _ in 0..<100 {
            do {
                let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
            } catch {
                try await Task.sleep(for: .milliseconds(100))  // the HTTP port may open just after the wire port
            }
        }
        throw URLError(.timedOut)
    }

    @Test func countersAndHistogramsOfTheIngest() async throws {
        let port = try freeLoopbackPort()
        let ingest = try IngestFixture(settings: #""metrics": {"host": "127.0.0.1", "port": \#(port)}"#)
        defer { ingest.stop() }
        let base = "http://127.0.0.1:\(port)"
        #expect(try await Self.get("\(base)/health") == (200, "ok\n"))
        #expect(try await Self.get("\(base)/ready").0 == 200)

        let client = try await ingest.connect(as: "kg-census-system")
        #expect(try await client.request(Frames.feed("t1", "registry.town", SampleFeeds.town))["status"] == "accepted")
        #expect(try await client.request(Frames.feed("t1", "registry.town", SampleFeeds.town))["status"] == "duplicate")
        let bad = try await client.request(Frames.feed("t2", "registry.town", ["town_id": "x", "name": "X", "kind": "city"]))
        #expect(bad["error"]?["code"] == "invalid_field")
        await client.close()

        let (status, text) = try await Self.get("\(base)/metrics")
        #expect(status == 200)
        #expect(text.contains(#"dudao_feeds_total{type="registry.town",outcome="accepted"} 1"#), "\(text)")
        #expect(text.contains(#"dudao_feeds_total{type="registry.town",outcome="duplicate"} 1"#))
        #expect(text.contains(#"dudao_feeds_refused_total{type="registry.town",code="invalid_field"} 1"#))
        #expect(text.contains("dudao_group_commit_batch_size_count 2"))
        #expect(text.contains("dudao_group_commit_seconds_bucket"))
        #expect(text.contains(#"dudao_consumer_lag{consumer="dudao-indicators"} 1"#))
    }
}
