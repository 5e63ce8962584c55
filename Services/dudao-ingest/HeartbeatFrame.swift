import DudaoCore
import DudaoFeeds
import DudaoWire

/// A `safety.heartbeat` feed frame read straight from its bytes, without the generic JSON tree
/// (the ingest's most frequent frame: every device, every minute).
///
/// Only the plain form is read here: `v`, `kind`, `id`, `type` and `body` once each, in any
/// order, with any JSON whitespace; every string printable ASCII without escapes; the body a
/// flat object of strings. Anything else (escapes, other text, `sent_at`, numbers other than
/// `"v": 1`, duplicates, unknown members, a body that does not validate) gives `nil`, and the
/// frame takes the generic path, which gives the same answer or the precise error. The body is
/// validated by the same ``FeedValidator`` as on the generic path; `HeartbeatFrameTests`
/// compares both paths frame by frame.
struct HeartbeatFrame {
    var id: String
    var feed: ValidatedFeed
    /// The body as stored: compact JSON, members in the order received (what ``JSONWriter``
    /// writes for the same object).
    var body: [UInt8]

    static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> HeartbeatFrame? {
        var scanner = FlatJSONScanner(bytes: bytes, skipsWhitespace: true)
        return scanner.heartbeatFrame()
    }
}

extension FlatJSONScanner {
    fileprivate mutating func heartbeatFrame() -> HeartbeatFrame? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var id: String?
        var haveVersion = false
        var haveKind = false
        var haveType = false
        var members: [(key: Range<Int>, value: Range<Int>)]?
        var bodyBytes = 0..<0
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")) else { return nil }
            if equals(key, "v") {
                guard !haveVersion, version() else { return nil }
                haveVersion = true
            } else if equals(key, "kind") {
                guard !haveKind, let kind = string(), equals(kind, "feed") else { return nil }
                haveKind = true
            } else if equals(key, "id") {
                guard id == nil, let value = string() else { return nil }
                id = text(value)
            } else if equals(key, "type") {
                guard !haveType, let type = string(), equals(type, "safety.heartbeat") else { return nil }
                haveType = true
            } else if equals(key, "body") {
                skipWhitespace()
                let start = index
                guard members == nil, let body = flatObject() else { return nil }
                members = body
                bodyBytes = start..<index
            } else {
                return nil
            }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        skipWhitespace()
        guard index == bytes.count, haveVersion, haveKind, haveType, let id, Envelope.isValidID(id), let members else { return nil }

        var object: [(key: String, value: JSONValue)] = []
        object.reserveCapacity(members.count)
        for member in members { object.append((key: text(member.key), value: .string(text(member.value)))) }
        // The stored body is the compact form: `{"name":"value",...}`. Sent compact already
        // (each member takes its name, its value and 5 more bytes, plus the commas and
        // braces), it is copied as it came.
        let compactCount = 2 + members.reduce(0) { $0 + $1.key.count + $1.value.count + 5 } + max(members.count - 1, 0)
        var body: [UInt8]
        if bodyBytes.count == compactCount {
            body = Array(UnsafeBufferPointer(rebasing: bytes[bodyBytes]))
        } else {
            body = [UInt8(ascii: "{")]
            body.reserveCapacity(compactCount)
            for (offset, member) in members.enumerated() {
                if offset > 0 { body.append(UInt8(ascii: ",")) }
                body.append(UInt8(ascii: "\""))
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[member.key]))
                body.append(contentsOf: #"":""#.utf8)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[member.value]))
                body.append(UInt8(ascii: "\""))
            }
            body.append(UInt8(ascii: "}"))
        }
        guard case .success(let feed) = FeedValidator.validate(.safetyHeartbeat, body: JSONObject(object)) else { return nil }
        return HeartbeatFrame(id: id, feed: feed, body: body)
    }

    /// The number 1 and nothing more (not `1.0`, `1e0` or `10`).
    private mutating func version() -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "1") else { return false }
        index += 1
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: ","), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D: return true
        default: return false
        }
    }
}
