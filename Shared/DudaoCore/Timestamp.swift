#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An RFC 3339 timestamp, kept as milliseconds since the Unix epoch.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var millis: Int64

    public init(millis: Int64) { self.millis = millis }

    /// The current wall-clock time.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millis: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.millis < rhs.millis }

    /// Instants from 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z.
    public static let printable: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`, `z` and a space for `T` are accepted
    /// as RFC 3339 allows. Returns `nil` for anything else, including impossible dates.
    public init?(rfc3339 text: String) {
        var text = text
        guard let instant = text.withUTF8({ Timestamp(rfc3339UTF8: $0) }) else { return nil }
        self = instant
    }

    /// ``init(rfc3339:)`` over the text's UTF-8 bytes, read in place.
    public init?(rfc3339UTF8 b: UnsafeBufferPointer<UInt8>) {
        guard b.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for i in start..<(start + count) {
                guard i < b.count, b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Timestamp.daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var millis = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                millis += Int(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offsetMinutes = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2),
                oh < 24, om < 60
            else { return nil }
            offsetMinutes = sign * (oh * 60 + om)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
        let instant = seconds * 1000 + Int64(millis)
        // Only instants whose UTC form has a 4-digit year (0000-9999): what is accepted must print
        // back as RFC 3339 (an offset can push 0000-01-01 or 9999-12-31 across the edge).
        guard Timestamp.printable.contains(instant) else { return nil }
        self.millis = instant
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``description``'s UTF-8 to `out`, digit by digit, without building a string (a
    /// record frame carries two times: the ingest's writer thread writes one per stored feed).
    public func write(into out: inout [UInt8]) {
        guard Timestamp.printable.contains(millis) else {
            out.append(contentsOf: paddedDescription.utf8)
            return
        }
        let (y, m, d, secOfDay, ms) = fields
        // The 24 bytes filled on the stack and appended at once: an append per byte checks
        // the array's capacity and uniqueness every time.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { text in
            /// Two digits of `value` (0...99) at `at`.
            func two(_ value: Int, at index: Int) {
                text[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10)
                text[index + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
            }
            two(y / 100, at: 0)
            two(y % 100, at: 2)
            text[4] = UInt8(ascii: "-")
            two(m, at: 5)
            text[7] = UInt8(ascii: "-")
            two(d, at: 8)
            text[10] = UInt8(ascii: "T")
            two(secOfDay / 3600, at: 11)
            text[13] = UInt8(ascii: ":")
            two(secOfDay / 60 % 60, at: 14)
            text[16] = UInt8(ascii: ":")
            two(secOfDay % 60, at: 17)
            text[19] = UInt8(ascii: ".")
            text[20] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: ms / 100)
            two(ms % 100, at: 21)
            text[23] = UInt8(ascii: "Z")
            out.append(contentsOf: UnsafeBufferPointer(text))
        }
    }

    /// The description of any instant, the years outside 0000–9999 included.
    private var paddedDescription: String {
        let (y, m, d, secOfDay, ms) = fields
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):"
            + "\(pad(secOfDay % 60, 2)).\(pad(ms, 3))Z"
    }

    /// The UTC calendar date, the second of that day and the millisecond of that second.
    private var fields: (year: Int, month: Int, day: Int, secondOfDay: Int, millisecond: Int) {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let days = Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400)
        let (y, m, d) = Timestamp.civilFromDays(days)
        return (y, m, d, Int(seconds - Int64(days) * 86400), Int(millis - seconds * 1000))
    }

    /// Whether `text` is a valid calendar date `YYYY-MM-DD`.
    public static func isValidDate(_ text: String) -> Bool {
        Timestamp(rfc3339: text + "T00:00:00Z") != nil && text.utf8.count == 10
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
