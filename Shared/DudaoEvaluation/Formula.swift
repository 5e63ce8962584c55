import DudaoCore
import DudaoFeeds

/// A compiled indicator formula: one aggregate, or a ratio of two.
enum Formula: Sendable, Equatable {
    /// The value is the aggregate itself (a count, a sum, a single figure).
    case aggregate(Int)
    /// `factor × Σ numerator / Σ denominator`.
    case ratio(numerator: Int, denominator: Int, factor: Double)

    /// The aggregates the formula reads.
    var aggregates: [Int] {
        switch self {
        case .aggregate(let a): [a]
        case .ratio(let n, let d, _): [n, d]
        }
    }
}

/// Where a field path reads from.
enum FieldSource: Sendable, Equatable {
    /// The record's body.
    case record
    /// One element of the record's item array (`classes[]`).
    case item
    /// The record's registered institution (`institution.ownership`).
    case institution
}

/// A field named in a formula, resolved against the feed's schema.
struct FieldPath: Sendable, Equatable {
    var source: FieldSource
    /// Member names from the record, item or institution down to the value (`["studios", "city"]`).
    var keys: [String]
    /// As the catalog wrote it.
    var text: String
    var kind: FieldKind
}

/// A comparison operator of a condition.
enum Comparison: String, Sendable, Equatable, CaseIterable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    func holds(_ lhs: Double, _ rhs: Double) -> Bool {
        switch self {
        case .equal: lhs == rhs
        case .notEqual: lhs != rhs
        case .less: lhs < rhs
        case .lessOrEqual: lhs <= rhs
        case .greater: lhs > rhs
        case .greaterOrEqual: lhs >= rhs
        }
    }
}

/// A constant in a condition.
enum Scalar: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)

    /// Whether `value` equals this constant (numbers compare numerically).
    func matches(_ value: JSONValue?) -> Bool {
        switch (self, value) {
        case (.string(let s), .string(let v)?): s == v
        case (.bool(let b), .bool(let v)?): b == v
        case (.number(let n), let v?): v.doubleValue == n
        default: false
        }
    }
}

/// What a condition requires of its field.
enum ConditionTest: Sendable, Equatable {
    /// The value is one of these.
    case oneOf([Scalar])
    /// The value is none of these (a missing value counts as none).
    case noneOf([Scalar])
    /// `value <op> constant`; `==`/`!=` also compare strings and booleans.
    case compare(Comparison, Scalar)
    /// `value <op> max(other, minimum)`.
    case compareField(Comparison, other: FieldPath, minimum: Double?)
    /// `value <op> limits[by]`: the limit depends on another field (class level).
    case compareBy(Comparison, by: FieldPath, limits: [String: Double])
    /// `value / Σ items[].itemField <op> value`: an amount per child (outdoor m² per child), a
    /// standard each kindergarten meets or not. No items (or their sum 0) fails.
    case comparePer(Comparison, items: String, itemField: String, value: Double)
    /// The array is not empty.
    case nonEmpty
    /// The array is empty or missing.
    case empty
}

/// A compiled condition.
indirect enum Condition: Sendable, Equatable {
    case test(FieldPath, ConditionTest)
    /// At least one of these holds.
    case any([Condition])
    /// All of these hold.
    case all([Condition])
}

/// What an aggregate adds up per record.
enum AggregateKind: Sendable, Equatable {
    /// Σ of number fields, per record or per item of `items`.
    case sum(fields: [FieldPath], items: String?)
    /// Number of records, or of items of `items`.
    case count(items: String?)
    /// Number of base units (registered institutions or towns) whose hidden count aggregate
    /// `having` is above zero at the unit's own scope: joins and "towns having".
    case units(having: Int, joinFeed: FeedType)
    /// Devices listed in `devicesField` whose latest heartbeat is `ok` and at most
    /// `offlineAfterMillis` old at evaluation time.
    case online(devicesField: String, offlineAfterMillis: Int64)
}

/// One aggregate of the plan, shared by every indicator that declares it identically.
struct Aggregate: Sendable, Equatable {
    var feed: FeedType
    var kind: AggregateKind
    /// Record-level conditions: the record counts only if all hold.
    var conditions: [Condition]
    /// Item-level conditions (`where_item`).
    var itemConditions: [Condition]
    /// Record-level conditions that say what is being achieved (`match`); records meeting
    /// `conditions` but not these are listed as contributors.
    var match: [Condition]
    /// Scope kinds whose sums the engine keeps (bit 0 city, 1 town, 2 institution).
    var scopeMask: UInt8
}

/// An aggregate as the engine runs it: a reference, so the hot loop reads its conditions
/// without copying them.
final class AggregateProgram {
    let id: Int32
    let kind: AggregateKind
    let conditions: [Condition]
    let itemConditions: [Condition]
    let match: [Condition]

    init(id: Int, _ aggregate: Aggregate) {
        self.id = Int32(id)
        kind = aggregate.kind
        conditions = aggregate.conditions
        itemConditions = aggregate.itemConditions
        match = aggregate.match
    }
}
