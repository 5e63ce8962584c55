import DudaoCore
import DudaoFeeds
import Testing

/// Inputs the fuzz targets (`deploy/fuzz.sh`, sources in Tests/Fuzz) stopped on, replayed through
/// the same library calls, with what must hold for them.
@Suite struct FuzzRegressionTests {
    /// fuzz-feeds, input `02 {"\u0615d":"hen"}` (population.cohort): a member name that starts
    /// with a combining mark (U+0615). The rejection names it in a path whose first *character*
    /// is not "body." (the mark combines with the dot), but whose bytes are: paths and messages
    /// are byte strings to the client, and must begin with "body." and with the path.
    @Test func memberNameStartingWithACombiningMark() throws {
        let body = try #require(try JSONParser.parse(#"{"\u0615d":"hen"}"#).objectValue)
        let result = FeedValidator.validate(type: FeedType.populationCohort.rawValue, body: body)
        guard case .failure(let error) = result else {
            Issue.record("a body with an unknown member was accepted")
            return
        }
        #expect(error.code == .invalidField)
        let path = try #require(error.path)
        #expect(path == "body.\u{615}d")
        #expect(path.utf8.starts(with: "body.".utf8))
        #expect(error.message.utf8.starts(with: (path + " ").utf8), "message: \(error.message)")
        #expect(!path.hasPrefix("body."))  // why the check must be byte-wise
    }

    /// fuzz-feeds and fuzz-envelope check that an accepted timestamp prints
    /// (`Timestamp.description`, which is how the ingest sends `as_of` downstream) as text that
    /// reads back as the same instant. RFC 3339 allows years 0000–9999 with any offset, so an
    /// accepted `as_of` can fall before 0000-01-01T00:00:00Z or after 9999-12-31T23:59:59.999Z;
    /// it then prints with a year that is not 4 digits ("00-1-12-31T16:00:00.000Z",
    /// "10000-01-01T00:59:59.000Z"), which `Timestamp(rfc3339:)` refuses, and a consumer reads the
    /// record's as_of as 1970-01-01 (LogRecord's fallback). Fixed: `Timestamp(rfc3339:)` refuses an
    /// instant outside that range, so the validator names the field.
    @Test(arguments: ["0000-01-01T00:00:00+08:00", "9999-12-31T23:59:59-01:00"])
    func acceptedAsOfPrintsAsTextThatReadsBack(_ asOf: String) throws {
        let body: JSONObject = ["town_id": "dongcheng", "name": "东成镇", "kind": "town", "as_of": .string(asOf)]
        switch FeedValidator.validate(.registryTown, body: body) {
        case .failure(let error):
            #expect(error.path == "body.as_of")
        case .success(let feed):
            let stamp = try #require(feed.asOf)
            Issue.record("accepted \(asOf), which prints as \(stamp.description)")
        }
        // The edges themselves are fine and print back.
        for edge in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"] {
            let stamp = try #require(Timestamp(rfc3339: edge))
            #expect(Timestamp(rfc3339: stamp.description) == stamp)
        }
    }
}
