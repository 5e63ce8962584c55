import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import NIOCore
import Testing

/// A record frame read straight from its bytes (``Frame/Record/read(_:)``, what a log consumer
/// does) against the generic parser: whatever the fast path reads, the generic path reads as the
/// same record; what it declines goes the generic way. And through a real ingest: its record
/// frames are the form the fast path reads.
@Suite struct RecordFrameReaderTests {
    static func fast(_ bytes: [UInt8]) -> Frame.Record.Read? {
        bytes.withUnsafeBufferPointer { Frame.Record.read($0) }
    }

    static func generic(_ bytes: [UInt8]) -> Frame.Record? {
        bytes.withUnsafeBufferPointer { buffer in (try? JSONParser.parse(buffer)).flatMap(Frame.Record.init(frame:)) }
    }

    static func encoded(seq: Int64 = 42, type: String = "safety.heartbeat", key: String = "al-1", body: String) -> [UInt8] {
        var buffer = Frame.Record.encode(
            seq: seq, type: type, sender: "alarm-platform", feedID: "hb-42", key: key, asOfMillis: 1_756_684_800_000,
            receivedAtMillis: 1_756_684_801_234, bodyJSON: body)
        return buffer.readBytes(length: buffer.readableBytes)!
    }

    static let heartbeat =
        #"{"device_id":"al-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"ok"}"#

    @Test func theIngestsFormIsReadAsTheGenericParserReadsIt() throws {
        for body in [Self.heartbeat, "{}", #"{"a":""}"#, #"{"at":"2025-09-01T00:00:00Z","x y":"~!@#$%^&*()_+`-=[]{}|;':,./<>?"}"#] {
            let bytes = Self.encoded(body: body)
            let read = try #require(Self.fast(bytes), "read fast: \(body)")
            #expect(read.record == Self.generic(bytes), "\(body)")
            #expect(read.bodyJSON == Array(body.utf8), "the body as it came: \(body)")
            // Back to a frame (what `WireClient.receive()` gives for it): the generic tree of the same bytes.
            #expect(read.record.frame == (try JSONParser.parse(bytes)))
        }
        // The sequence number written digit by digit, as `String(seq)` would.
        for seq: Int64 in [0, 1, 9, 10, 99, 100, 1_234_567_890, 999_999_999_999, Int64.max] {
            let frame = try JSONParser.parse(Self.encoded(seq: seq, body: Self.heartbeat))
            #expect(frame["id"]?.stringValue == String(seq) && frame["body"]?["seq"]?.intValue == seq, "\(seq)")
        }
        let read = try #require(Self.fast(Self.encoded(seq: 9_223_372_036_854_775_807, body: Self.heartbeat)))
        #expect(read.record.seq == Int64.max)
        #expect(read.record.asOf == Timestamp(millis: 1_756_684_800_000))
        #expect(read.record.receivedAt == Timestamp(millis: 1_756_684_801_234))
    }

    @Test func whatItDeclinesGoesTheGenericWay() {
        let plain = String(decoding: Self.encoded(body: Self.heartbeat), as: UTF8.self)
        // Well-formed records the fast path leaves to the generic parser, which reads them.
        let generic = [
            String(decoding: Self.encoded(body: #"{"name":"东成镇","town_id":"dongcheng"}"#), as: UTF8.self),  // not ASCII
            String(decoding: Self.encoded(body: #"{"children":25}"#), as: UTF8.self),  // a number
            String(decoding: Self.encoded(body: #"{"a":{"b":"c"}}"#), as: UTF8.self),  // nested
            String(decoding: Self.encoded(body: #"{"a":"b\"c"}"#), as: UTF8.self),  // an escape
            String(decoding: Self.encoded(body: #"{"a":"b\u0041"}"#), as: UTF8.self),
            String(decoding: Self.encoded(key: "k\\/1", body: Self.heartbeat), as: UTF8.self),
            plain.replacingOccurrences(of: #"{"v":1,"#, with: #"{ "v":1,"#),  // whitespace
            plain.replacingOccurrences(of: #""record":"#, with: #""record" :"#),
            plain.replacingOccurrences(of: #""id":"42""#, with: #""id":"43""#),  // id is not seq
            plain.replacingOccurrences(of: #""seq":42"#, with: #""seq":-42"#),
            plain.replacingOccurrences(of: #""as_of":""#, with: #""as_of":"yesterday","x":""#),  // a time it does not read
            plain + " ",
        ]
        for text in generic {
            #expect(Self.fast(Array(text.utf8)) == nil, "declined: \(text)")
            #expect(Self.generic(Array(text.utf8)) != nil, "the generic parser reads: \(text)")
        }
        // Not records, or broken: declined here; the generic parser refuses them or reads no record.
        let broken = [
            plain.replacingOccurrences(of: #"{"device_id":"al-1","#, with: #"{"device_id":"al-1","device_id":"al-2","#),  // a duplicate
            plain.replacingOccurrences(of: #""seq":42"#, with: #""seq":042"#),
            plain.replacingOccurrences(of: #""seq":42"#, with: #""seq":99999999999999999999"#),
            plain.replacingOccurrences(of: #""kind":"record""#, with: #""kind":"recorded""#),
            plain + "}",
            String(plain.dropLast()),
            String(plain.dropLast(40)),
            "",
        ]
        for text in broken {
            #expect(Self.fast(Array(text.utf8)) == nil, "declined: \(text)")
            #expect(Self.generic(Array(text.utf8)) == nil, "no record: \(text)")
        }
    }

    /// A consumer's connection to a real ingest: the heartbeat's record comes read from its
    /// bytes, with the body the ingest stored; a registry record with Chinese text comes parsed.
    @Test func aRealIngestsRecordsAreReadFromTheirBytes() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let sender = try await ingest.connect()
        for (id, type, body) in [
            ("t", "registry.town", SampleFeeds.town), ("kg", "registry.institution", SampleFeeds.kindergarten),
            ("hb", "safety.heartbeat", SampleFeeds.heartbeat(device: "al-7")),
        ] {
            #expect(try await sender.request(Frames.feed(id, type, body))["status"] == "accepted")
        }
        let consumer = try await ingest.connect(as: "dudao-safety", readsRecords: true)
        try await consumer.send(["v": 1, "kind": "subscribe", "id": "sub", "body": ["from": 1, "credit": 10]])
        guard case .frame(let started) = try #require(try await consumer.receiveInbound()) else {
            Issue.record("the subscription's answer is a frame")
            return
        }
        #expect(started["kind"] == "result")
        for seq in 1...2 {
            guard case .frame(let frame) = try #require(try await consumer.receiveInbound()) else {
                Issue.record("record \(seq) has Chinese text: parsed")
                return
            }
            #expect(frame["body"]?["seq"] == .int(Int64(seq)))
        }
        guard case .record(let read) = try #require(try await consumer.receiveInbound()) else {
            Issue.record("the heartbeat's record is read from its bytes")
            return
        }
        #expect(read.record.seq == 3)
        #expect(read.record.type == "safety.heartbeat")
        #expect(read.record.key == "al-7")
        #expect(read.record.sender == "operator")
        #expect(read.record.feedID == "hb")
        #expect(read.record.asOf == Timestamp(rfc3339: "2026-11-29T08:00:00Z"))
        #expect(JSONValue.object(read.record.body) == SampleFeeds.heartbeat(device: "al-7"))
        #expect(try JSONParser.parse(read.bodyJSON) == SampleFeeds.heartbeat(device: "al-7"))
    }
}
