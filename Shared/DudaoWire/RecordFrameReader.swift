import DudaoCore
import Foundation

extension Frame.Record {
    /// A record frame read straight from its bytes, without the generic JSON tree: what a
    /// consumer receives for every stored feed (the heartbeats above all).
    public struct Read: Sendable {
        public var record: Frame.Record
        /// The feed body as the ingest sent it (the compact JSON it stored).
        public var bodyJSON: [UInt8]
    }

    /// Reads a record frame in the exact form ``encode(seq:type:sender:feedID:key:asOfMillis:receivedAtMillis:bodyUTF8:)``
    /// writes, whose strings are printable ASCII without escapes and whose body is a flat object
    /// of such strings, each name once. Anything else (another member order, whitespace, an
    /// escape, other text, a number in the body, a nested body) gives `nil`: the frame then takes
    /// the generic parser, which gives the same record or the precise error.
    /// `RecordFrameReaderTests` compares both paths frame by frame.
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> Read? {
        var scanner = Scanner(bytes: bytes)
        return scanner.frame()
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func frame() -> Read? {
            guard literal(#"{"v":1,"kind":"record","id":""#), let id = integer(), literal(#"","type":"#),
                let type = string(), literal(#","body":{"seq":"#), let seq = integer(), seq == id,
                literal(#","sender":"#), let sender = string(), literal(#","feed_id":"#), let feedID = string(),
                literal(#","key":"#), let key = string(), literal(#","as_of":"#), let asOf = time(),
                literal(#","received_at":"#), let receivedAt = time(), literal(#","record":"#)
            else { return nil }
            let bodyStart = index
            guard let members = flatObject() else { return nil }
            let bodyEnd = index
            guard literal("}}"), index == bytes.count else { return nil }
            var body: [(key: String, value: JSONValue)] = []
            body.reserveCapacity(members.count)
            for member in members { body.append((key: text(member.key), value: .string(text(member.value)))) }
            let record = Frame.Record(
                seq: seq, type: text(type), sender: text(sender), feedID: text(feedID), key: text(key), asOf: asOf, receivedAt: receivedAt,
                body: JSONObject(body))
            return Read(record: record, bodyJSON: Array(UnsafeBufferPointer(rebasing: bytes[bodyStart..<bodyEnd])))
        }

        /// `{"name":"value",...}` with string values only, each name once: the ranges of names
        /// and values.
        mutating func flatObject() -> [(key: Range<Int>, value: Range<Int>)]? {
            guard literal("{") else { return nil }
            var members: [(key: Range<Int>, value: Range<Int>)] = []
            members.reserveCapacity(8)
            if literal("}") { return members }
            repeat {
                guard let key = string(), literal(":"), let value = string() else { return nil }
                for member in members where equals(member.key, key) { return nil }
                members.append((key, value))
            } while literal(",")
            return literal("}") ? members : nil
        }

        /// A string of printable ASCII without escapes: the range of its contents.
        mutating func string() -> Range<Int>? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            var end = start
            while end < bytes.count {
                let byte = bytes[end]
                if byte == UInt8(ascii: "\"") {
                    index = end + 1
                    return start..<end
                }
                guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
                end += 1
            }
            return nil
        }

        /// A non-negative integer without a sign, a fraction, an exponent or a leading zero.
        mutating func integer() -> Int64? {
            let start = index
            var value: Int64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowAgain) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                guard !overflow, !overflowAgain else { return nil }
                value = sum
                index += 1
            }
            let count = index - start
            guard count > 0, count == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
            return value
        }

        /// A string holding an RFC 3339 time.
        mutating func time() -> Timestamp? {
            guard let range = string() else { return nil }
            return Timestamp(rfc3339UTF8: UnsafeBufferPointer(rebasing: bytes[range]))
        }

        /// Takes `literal` if the bytes continue with it.
        mutating func literal(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - index >= count, memcmp(bytes.baseAddress! + index, literal.utf8Start, count) == 0 else { return false }
            index += count
            return true
        }

        func equals(_ first: Range<Int>, _ second: Range<Int>) -> Bool {
            first.count == second.count && memcmp(bytes.baseAddress! + first.lowerBound, bytes.baseAddress! + second.lowerBound, first.count) == 0
        }

        func text(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }
    }
}
