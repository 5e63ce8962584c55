import DudaoCore

/// What the JSON parser and writer promise for any input.
public enum JSONChecks {
    /// Parses `bytes`; when they are one JSON value, checks the round trip and returns the value.
    public static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            fuzzCheck(error.offset >= 0 && error.offset <= bytes.count, "parse error offset \(error.offset) outside the input")
            return nil
        }
        roundTrip(value)
        return value
    }

    /// `value` written, then parsed again, is `value`; and writing that again gives the same bytes.
    public static func roundTrip(_ value: JSONValue) {
        let written = JSONWriter.bytes(value)
        let again: JSONValue
        do {
            again = try JSONParser.parse(written)
        } catch {
            fuzzFail("the writer's output does not parse (\(error)): \(fuzzShow(written))")
        }
        fuzzCheck(again == value, "parse(write(v)) != v for \(fuzzShow(written))")
        let rewritten = JSONWriter.bytes(again)
        fuzzCheck(rewritten == written, "writing is not stable: \(fuzzShow(written)) then \(fuzzShow(rewritten))")
    }

    /// A timestamp the code accepted prints as RFC 3339 text that reads back as the same instant
    /// (the ingest sends `as_of` downstream as `Timestamp.description`).
    public static func timestampRoundTrip(_ stamp: Timestamp, from text: String) {
        let printed = stamp.description
        fuzzCheck(
            Timestamp(rfc3339: printed) == stamp,
            "timestamp \(text.debugDescription) (\(stamp.millis) ms) prints as \(printed.debugDescription), "
                + "which does not read back as the same instant")
    }
}
