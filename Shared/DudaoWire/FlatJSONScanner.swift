import Foundation

/// Reads the plain JSON of the hot frames straight from their bytes: strings of printable ASCII
/// without escapes, and flat objects of such strings. It only ever says "not this form" (`nil`
/// or `false`); the frame then takes the generic parser, which gives the same answer or the
/// precise error. ``Frame/Record/read(_:)`` (a consumer's records) and the ingest's heartbeat
/// frames read with it. Inlinable: the ingest reads heartbeats from another module, and a call
/// per byte run would cost it about 900 instructions a heartbeat (callgrind).
public struct FlatJSONScanner {
    public let bytes: UnsafeBufferPointer<UInt8>
    public var index = 0
    /// Whether JSON whitespace may stand between tokens (a frame from an integrator), or the
    /// bytes must be compact (a frame the ingest wrote).
    public let skipsWhitespace: Bool

    @inlinable
    public init(bytes: UnsafeBufferPointer<UInt8>, skipsWhitespace: Bool) {
        self.bytes = bytes
        self.skipsWhitespace = skipsWhitespace
    }

    /// `{"name":"value",...}` with string values only, each name once: the ranges of names and
    /// values.
    @inlinable
    public mutating func flatObject() -> [(key: Range<Int>, value: Range<Int>)]? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var members: [(key: Range<Int>, value: Range<Int>)] = []
        members.reserveCapacity(8)
        if take(UInt8(ascii: "}")) { return members }
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")), let value = string() else { return nil }
            for member in members where equals(member.key, key) { return nil }
            members.append((key, value))
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? members : nil
    }

    /// A string of printable ASCII without escapes: the range of its contents.
    @inlinable
    public mutating func string() -> Range<Int>? {
        skipWhitespace()
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

    /// Takes `byte` if it comes next.
    @inlinable
    public mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Takes `literal` if the bytes continue with it, exactly.
    @inlinable
    public mutating func take(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count, memcmp(bytes.baseAddress! + index, literal.utf8Start, count) == 0 else { return false }
        index += count
        return true
    }

    @inlinable
    public mutating func skipWhitespace() {
        guard skipsWhitespace else { return }
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    @inlinable
    public func equals(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        range.count == literal.utf8CodeUnitCount && memcmp(bytes.baseAddress! + range.lowerBound, literal.utf8Start, range.count) == 0
    }

    @inlinable
    public func equals(_ first: Range<Int>, _ second: Range<Int>) -> Bool {
        first.count == second.count && memcmp(bytes.baseAddress! + first.lowerBound, bytes.baseAddress! + second.lowerBound, first.count) == 0
    }

    @inlinable
    public func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}
