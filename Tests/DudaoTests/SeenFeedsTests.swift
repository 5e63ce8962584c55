import Testing

@testable import dudao_ingest

/// The filter of stored (sender, id) pairs never answers "certainly not" for a pair it was told
/// of within the dedupe window, and rarely "perhaps" for one it was not.
@Suite struct SeenFeedsTests {
    static let day: Int64 = 86_400_000

    @Test func everyPairToldIsFoundAndFewOthersAre() {
        let seen = SeenFeeds(windowMillis: 7 * Self.day)
        let start: Int64 = 1_750_000_000_000
        let told = 300_000
        for n in 0..<told { seen.insert(sender: "town-\(n % 7)", id: "feed-\(n)", at: start + Int64(n)) }
        var missed = 0
        for n in 0..<told where !seen.mayContain(sender: "town-\(n % 7)", id: "feed-\(n)") { missed += 1 }
        #expect(missed == 0)
        // The same ids from another sender, and ids never sent.
        var perhaps = 0
        for n in 0..<told {
            if seen.mayContain(sender: "town-\((n + 1) % 7)", id: "feed-\(n)") { perhaps += 1 }
            if seen.mayContain(sender: "town-\(n % 7)", id: "other-\(n)") { perhaps += 1 }
        }
        #expect(Double(perhaps) / Double(2 * told) < 0.01, "\(perhaps) of \(2 * told) answered perhaps")
        // Generations grew from 2^14 pairs: 16 Ki + 32 Ki + 64 Ki + 128 Ki + 256 Ki > 300 000.
        #expect(seen.size.generations == 5)
    }

    @Test func aPairIsKeptThroughTheWindowAndDroppedAfterIt() {
        let window = 7 * Self.day
        let seen = SeenFeeds(windowMillis: window)
        let start: Int64 = 1_750_000_000_000
        seen.insert(sender: "s", id: "first", at: start)
        // A new generation every quarter window; the first one stays while within the window.
        for quarter in 1...4 {
            seen.insert(sender: "s", id: "q\(quarter)", at: start + Int64(quarter) * window / 4)
            #expect(seen.mayContain(sender: "s", id: "first"), "quarter \(quarter)")
        }
        #expect(seen.size.generations == 5)
        // A window and a quarter after its newest pair (the margin for a clock stepping back),
        // the first generation goes; the later ones stay.
        seen.insert(sender: "s", id: "late", at: start + window + window / 4 + 1)
        #expect(seen.size.generations == 5)
        for quarter in 1...4 { #expect(seen.mayContain(sender: "s", id: "q\(quarter)")) }
        #expect(seen.mayContain(sender: "s", id: "late"))
    }
}
