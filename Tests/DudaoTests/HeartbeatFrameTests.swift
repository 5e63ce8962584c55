import DudaoCore
import DudaoFeeds
import DudaoWire
import Foundation
import NIOCore
import Testing

@testable import dudao_ingest

/// The heartbeat read straight from its bytes (``HeartbeatFrame``) against the generic path
/// (``Envelope/parse(_:)``, then ``FeedValidator``): whatever the fast path accepts, the generic
/// path accepts with the same id, the same feed, the same body and the same stored bytes; what
/// it declines goes the generic way (and gets its precise error there).
@Suite struct HeartbeatFrameTests {
    struct Read: Equatable {
        var id: String
        var feed: Feed
        var body: JSONObject
        var stored: [UInt8]
    }

    static func fast(_ text: String) -> Read? {
        var text = text
        return text.withUTF8 { bytes in
            HeartbeatFrame.read(bytes).map { Read(id: $0.id, feed: $0.feed.feed, body: $0.feed.body, stored: $0.body) }
        }
    }

    static func fast(_ bytes: [UInt8]) -> Read? {
        bytes.withUnsafeBufferPointer { buffer in
            HeartbeatFrame.read(buffer).map { Read(id: $0.id, feed: $0.feed.feed, body: $0.feed.body, stored: $0.body) }
        }
    }

    static func generic(_ bytes: [UInt8]) -> Read? {
        guard case .success(let envelope) = Envelope.parse(ByteBuffer(bytes: bytes)), envelope.sentAt == nil,
            case .feed(let type, let body) = envelope.request, type == FeedType.safetyHeartbeat.rawValue,
            case .success(let feed) = FeedValidator.validate(type: type, body: body)
        else { return nil }
        return Read(id: envelope.id, feed: feed.feed, body: feed.body, stored: JSONWriter.bytes(.object(feed.body)))
    }

    static let plain =
        #"{"v":1,"kind":"feed","id":"hb-1","type":"safety.heartbeat","body":{"device_id":"al-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-01T08:00:00+08:00","status":"ok"}}"#

    @Test func thePlainFormsAreReadAsTheGenericPathReadsThem() throws {
        let forms = [
            Self.plain,
            // Another order, whitespace everywhere JSON allows it.
            " {\n \"body\" : { \"status\":\"fault\" , \"at\":\"2025-09-01T00:00:00Z\",\"device_kind\":\"cctv_link\",\"institution_id\":\"kg-2\",\"device_id\":\"c-9\" } ,\t\"type\":\"safety.heartbeat\",\r\n\"id\":\"x.y:z-1_2\",\"kind\":\"feed\",\"v\":1 }\n",
        ]
        for form in forms {
            let fast = try #require(Self.fast(form), "read fast: \(form)")
            #expect(fast == Self.generic(Array(form.utf8)), "\(form)")
        }
    }

    @Test func whatItDeclinesGoesTheGenericWay() {
        let declined = [
            Self.plain.replacingOccurrences(of: #""v":1"#, with: #""v":1.0"#),
            Self.plain.replacingOccurrences(of: #""v":1"#, with: #""v":2"#),
            Self.plain.replacingOccurrences(of: #""v":1"#, with: #""v":10"#),
            Self.plain.replacingOccurrences(of: #""al-1""#, with: #""al\u002d1""#),  // an escape
            Self.plain.replacingOccurrences(of: #""kg-1""#, with: #""幼儿园""#),  // not ASCII
            Self.plain.replacingOccurrences(of: #""status":"ok""#, with: #""status":"ok","status":"ok""#),  // a duplicate
            Self.plain.replacingOccurrences(of: #""status":"ok""#, with: #""status":"ok","extra":"1""#),  // unknown to the feed
            Self.plain.replacingOccurrences(of: #""status":"ok""#, with: #""status":"maybe""#),  // does not validate
            Self.plain.replacingOccurrences(of: #""kind":"feed""#, with: #""kind":"query""#),
            Self.plain.replacingOccurrences(of: #""safety.heartbeat""#, with: #""safety.alarm""#),
            Self.plain.replacingOccurrences(of: #""id":"hb-1""#, with: #""id":"hb 1""#),  // not a valid id
            Self.plain.replacingOccurrences(of: #""id":"hb-1","#, with: #""id":"hb-1","sent_at":"2025-09-01T00:00:00Z","#),
            Self.plain.replacingOccurrences(of: #""id":"hb-1","#, with: ""),
            Self.plain + " x",
            String(Self.plain.dropLast()),
        ]
        for form in declined { #expect(Self.fast(form) == nil, "\(form)") }
    }

    /// Random damage to plain frames (bytes changed, inserted, removed): whenever the fast path
    /// still reads one, the generic path reads the same.
    @Test func damagedFramesAreNeverReadDifferently() {
        var random = SplitMix64(seed: 15)
        let alphabet = Array(#"{}[]:," \"\\ 01.-eatrufnlsu0a9zZ\u{7f}"#.utf8) + [0x00, 0x0A, 0xC3, 0xA9, 0xFF]
        var readFast = 0
        for _ in 0..<20_000 {
            var bytes = Array(Self.plain.utf8)
            for _ in 0..<Int(random.next() % 3) + 1 {
                let at = Int(random.next() % UInt64(bytes.count))
                let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 3 {
                case 0: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: bytes.remove(at: at)
                }
            }
            guard let fast = Self.fast(bytes) else { continue }
            readFast += 1
            #expect(fast == Self.generic(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(readFast > 100, "some damage leaves a readable heartbeat (another id, another device)")
    }
}

/// A small seeded generator, so that a failure repeats.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
