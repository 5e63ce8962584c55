import DudaoCore
import Testing

/// RFC 3339 times written digit by digit (``Timestamp/write(into:)``, the record frames' hot
/// path) and read over bytes in place (``Timestamp/init(rfc3339UTF8:)``): the same text and the
/// same instants as before, at the edges and across the whole printable range.
@Suite struct TimestampTests {
    @Test func knownInstantsPrintAsBefore() {
        let known: [(Int64, String)] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (1_756_684_801_234, "2025-09-01T00:00:01.234Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (Timestamp.printable.lowerBound, "0000-01-01T00:00:00.000Z"),
            (Timestamp.printable.upperBound, "9999-12-31T23:59:59.999Z"),
            // Outside 0000–9999: not RFC 3339, printed as before (never sent: the parser refuses them).
            (Timestamp.printable.upperBound + 1, "10000-01-01T00:00:00.000Z"),
        ]
        for (millis, text) in known {
            let time = Timestamp(millis: millis)
            #expect(time.description == text)
            var bytes: [UInt8] = [1]
            time.write(into: &bytes)
            #expect(bytes == [1] + Array(text.utf8), "appended after what was there: \(text)")
        }
    }

    @Test func everyPrintedInstantReadsBackTheSame() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let time = Timestamp(millis: Int64.random(in: Timestamp.printable, using: &generator))
            var bytes: [UInt8] = []
            time.write(into: &bytes)
            #expect(bytes == Array(time.description.utf8))
            #expect(Timestamp(rfc3339: time.description) == time)
            #expect(bytes.withUnsafeBufferPointer { Timestamp(rfc3339UTF8: $0) } == time)
        }
    }

    @Test func textAndBytesReadTheSame() {
        let texts = [
            "2025-09-01T08:00:00+08:00", "2025-09-01t08:00:00.5z", "2025-09-01 08:00:00.123456-05:30", "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-09-01T24:00:00Z", "2025-09-01T08:00:00", "2025-09-01T08:00:00+8:00",
            "2025-09-01T08:00:00.Z", "0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59.999-00:01", "", "2025-09-01",
        ]
        for text in texts {
            var utf8 = Array(text.utf8)
            let fromBytes = utf8.withUnsafeMutableBufferPointer { Timestamp(rfc3339UTF8: UnsafeBufferPointer($0)) }
            #expect(fromBytes == Timestamp(rfc3339: text), "\(text)")
        }
        #expect(Timestamp(rfc3339: "2025-09-01T08:00:00+08:00") == Timestamp(millis: 1_756_684_800_000))
        #expect(Timestamp(rfc3339: "2023-02-29T00:00:00Z") == nil)
        #expect(Timestamp(rfc3339: "0000-01-01T00:00:00+00:01") == nil, "before year 0000 in UTC")
    }
}
