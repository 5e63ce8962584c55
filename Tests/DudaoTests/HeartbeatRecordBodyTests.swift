import DudaoCore
import DudaoFeeds
import DudaoWire
import NIOCore
import Testing

@testable import DudaoLinks

/// A heartbeat record decoded straight from its frame's bytes (``HeartbeatRecordBody``, what a
/// log consumer does for each heartbeat) against the validator on the generic body: the same
/// heartbeat whenever the validator accepts the body, and `nil` (the generic path, with the
/// validator's error) whenever it refuses it.
@Suite struct HeartbeatRecordBodyTests {
    static let valid = [
        #"{"device_id":"al-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"ok"}"#,
        #"{"status":"fault","at":"2025-09-01T00:00:00Z","device_kind":"cctv_link","institution_id":"kg.1_A","device_id":"cam-9"}"#,
        #"{"device_id":"\#(String(repeating: "d", count: 64))","institution_id":"k","device_kind":"alarm","at":"2025-09-01T08:00:00.123+08:00","status":"ok"}"#,
    ]

    static let refused = [
        #"{"device_id":"al 1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"ok"}"#,
        #"{"device_id":"\#(String(repeating: "d", count: 65))","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"ok"}"#,
        #"{"device_id":"","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"ok"}"#,
        #"{"device_id":"al-1","institution_id":"kg/1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"ok"}"#,
        #"{"device_id":"al-1","institution_id":"kg-1","device_kind":"siren","at":"2025-09-01T08:00:00+08:00","status":"ok"}"#,
        #"{"device_id":"al-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01 08:00","status":"ok"}"#,
        #"{"device_id":"al-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"OK"}"#,
        #"{"device_id":"al-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00"}"#,
        #"{"device_id":"al-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","state":"ok"}"#,
        #"{"device_id":"al-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"ok","x":"y"}"#,
    ]

    static func read(_ body: String) throws -> Frame.Record.Read {
        var buffer = Frame.Record.encode(
            seq: 7, type: "safety.heartbeat", sender: "alarm-platform", feedID: "hb-7", key: "al-1", asOfMillis: 1_756_684_800_000,
            receivedAtMillis: 1_756_684_801_234, bodyJSON: body)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let read = bytes.withUnsafeBufferPointer { Frame.Record.read($0) }
        return try #require(read, "the reader takes \(body)")
    }

    @Test func theSameHeartbeatAsTheValidatorsOrNone() throws {
        for body in Self.valid + Self.refused {
            let read = try Self.read(body)
            let generic = try? FeedValidator.decode(.safetyHeartbeat, read.record.body)
            let fast = HeartbeatRecordBody.decode(read)
            #expect(fast.map(Feed.safetyHeartbeat) == generic, "\(body)")
            #expect((fast != nil) == Self.valid.contains(body), "\(body)")
        }
    }

    /// The record a consumer gets: the heartbeat decoded, the body still there when asked for, and
    /// a refused body giving the validator's own error.
    @Test func aConsumersRecordDecodesAsBefore() throws {
        for body in Self.valid + Self.refused {
            let read = try Self.read(body)
            let record = try #require(LogRecord(read: read))
            #expect((record.decoded != nil) == Self.valid.contains(body), "decoded from the bytes, or not: \(body)")
            let before = read.record.body
            #expect(record.body == before, "\(body)")
            #expect(record.bodyText == body)
            let expected = FeedValidator.validate(.safetyHeartbeat, body: before)
            switch (record.validated(), expected) {
            case (.success(let got), .success(let want)): #expect(got.feed == want.feed, "\(body)")
            case (.failure(let got), .failure(let want)): #expect(got == want, "\(body)")
            default: Issue.record("\(body): \(record.validated()) against \(expected)")
            }
            #expect((try? record.decode()) == (try? FeedValidator.decode(.safetyHeartbeat, before)))
        }
        // A body set on a decoded record is the one decoded.
        var record = try #require(LogRecord(read: try Self.read(Self.valid[0])))
        var changed = record.body
        changed["status"] = "fault"
        record.body = changed
        guard case .safetyHeartbeat(let heartbeat) = try record.decode() else { throw WireError(.invalidField, "not a heartbeat") }
        #expect(heartbeat.status == .fault)
    }
}
