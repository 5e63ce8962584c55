import DudaoCore
import DudaoFeeds

/// Amounts as integer millionths, so that running sums are exact: adding then subtracting a
/// record's contribution restores the previous sum bit for bit, whatever the order.
enum FixedPoint {
    static let scale: Double = 1_000_000
    static let one: Int64 = 1_000_000
    /// Largest magnitude kept (values beyond are clamped): 9 × 10^12 units.
    static let limit: Double = 9.0e12

    /// A JSON number in millionths; anything else is 0.
    static func from(_ value: JSONValue?) -> Int64 {
        switch value {
        case .int(let i)?:
            return i > 9_000_000_000_000 ? Int64(limit * scale) : i < -9_000_000_000_000 ? -Int64(limit * scale) : i * one
        case .double(let d)?:
            guard d.isFinite else { return 0 }
            return Int64((min(max(d, -limit), limit) * scale).rounded())
        default:
            return 0
        }
    }

    /// `count` units in millionths.
    static func from(count: Int) -> Int64 { Int64(count) &* one }

    static func double(_ value: Int64) -> Double { Double(value) / scale }
}

/// A running sum at one (aggregate, scope, year): the amount in millionths and how many
/// records of the aggregate's feed are present there (whether or not they matched).
struct Accumulator: Equatable {
    var value: Int64 = 0
    var present: Int32 = 0
    /// The apply that last touched this sum (change tracking; not part of equality).
    var stamp: UInt32 = 0

    init(value: Int64 = 0, present: Int32 = 0) {
        self.value = value
        self.present = present
    }

    static func == (lhs: Accumulator, rhs: Accumulator) -> Bool {
        lhs.value == rhs.value && lhs.present == rhs.present
    }
}

/// What one record adds to one aggregate in one year (0 = every year).
struct Entry: Equatable {
    var aggregate: Int32
    var year: Int32
    var value: Int64
    var present: Int32
}

/// Alarm devices one record lists, for an `online` aggregate.
struct DeviceListing: Equatable {
    var aggregate: Int32
    var devices: [Int32]
}

/// The latest version of a record and what it currently contributes (a reference, updated
/// in place).
final class RecordState {
    var body: JSONObject
    /// From the decoded feed (``Feed``): the institution and town it names, its year.
    var institutionID: String?
    var townID: String?
    var year: Int64?
    /// Scope ids the entries were added to (empty: the record counts nowhere yet, e.g. its
    /// institution is not registered).
    var scopes: [Int32] = []
    var entries: [Entry] = []
    var devices: [DeviceListing] = []

    init(_ feed: ValidatedFeed) {
        body = feed.body
        update(feed)
    }

    /// Takes the current version's body and fields.
    func update(_ feed: ValidatedFeed) {
        body = feed.body
        institutionID = feed.feed.institutionID
        townID = feed.feed.townID
        year = feed.feed.year
    }
}

/// A stored record: feed ordinal and key.
struct RecordRef: Hashable {
    var feed: Int
    var key: String
}

/// Which sum of which aggregate: `scope << 12 | year`.
struct SumKey: Hashable {
    var aggregate: Int32
    var key: Int
}

/// Packs a scope id and a year (0–4095; 0 = every year) into one dictionary key.
@inline(__always) func packKey(_ scope: Int32, _ year: Int32) -> Int { Int(scope) << 12 | Int(year) }
