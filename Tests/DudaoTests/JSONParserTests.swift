import DudaoCore
import Testing

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#"{"a":1,"b":-2.5,"c":"x\"y\u00e9\ud83d\ude00","d":[true,false,null],"e":{}}"#)
        #expect(value["a"] == .int(1))
        #expect(value["b"] == .double(-2.5))
        #expect(value["c"] == .string("x\"yé😀"))
        #expect(value["d"] == .array([.bool(true), .bool(false), .null]))
        #expect(value["e"] == .object([:]))
    }

    @Test func keepsIntegersApartFromFractions() throws {
        #expect(try JSONParser.parse("3") == .int(3))
        #expect(try JSONParser.parse("3.0") == .double(3.0))
        #expect(try JSONParser.parse("1e2") == .double(100))
        #expect(try JSONParser.parse("-0") == .int(0))
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", "tru", "\"\\x\"", "{\"a\":1}x", "{\"a\":1,\"a\":2}",
        "\"\u{01}\"", "\"\\ud800\"", "NaN", "1e999",
    ])
    func rejectsMalformedInput(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() throws {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        // Valid text around the bad byte, a truncated sequence, an overlong encoding, a lone
        // continuation byte, a surrogate encoded in UTF-8; and the same after an escape.
        let quote: UInt8 = 0x22
        for bad: [UInt8] in [[0xE4, 0xB8, 0x9C, 0xFF], [0xE4, 0xB8], [0xC0, 0xAF], [0x80], [0xED, 0xA0, 0x80], [0x5C, 0x6E, 0xE4, 0xB8]] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONParser.parse([quote] + bad + [quote]) }
        }
        #expect(try JSONParser.parse([quote] + Array("东成镇 kg-1".utf8) + [quote]) == .string("东成镇 kg-1"))
        #expect(try JSONParser.parse([quote, 0x5C, 0x6E] + Array("东".utf8) + [quote]) == .string("\n东"))
    }

    @Test func refusesDeepNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(fine)
    }

    @Test func writerRoundTrips() throws {
        let text = #"{"v":1,"kind":"ack","id":"a-1","s":"中文\n\"q\"","d":2.5,"n":null,"l":[1,2]}"#
        let value = try JSONParser.parse(text)
        #expect(JSONWriter.string(value) == text)
        #expect(try JSONParser.parse(JSONWriter.string(value)) == value)
    }

    @Test func timestampsFollowRFC3339() throws {
        #expect(Timestamp(rfc3339: "1970-01-01T00:00:00Z")?.millis == 0)
        #expect(Timestamp(rfc3339: "2025-09-30T10:00:00+08:00")?.millis == Timestamp(rfc3339: "2025-09-30T02:00:00Z")?.millis)
        #expect(Timestamp(rfc3339: "2025-09-30T10:00:00.250Z")!.millis % 1000 == 250)
        #expect(Timestamp(rfc3339: "2025-02-29T00:00:00Z") == nil)
        #expect(Timestamp(rfc3339: "2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp(rfc3339: "2025-09-30 10:00:00") == nil)
        #expect(Timestamp(rfc3339: "2025-13-01T00:00:00Z") == nil)
        let stamp = Timestamp(rfc3339: "2026-11-29T08:00:00.123+08:00")!
        #expect(stamp.description == "2026-11-29T00:00:00.123Z")
        #expect(Timestamp(rfc3339: stamp.description) == stamp)
    }
}
