import DudaoCore

/// What a condition reads: a record, possibly one of its items, and its registered institution.
struct ConditionContext {
    var record: JSONObject
    var item: JSONObject?
    var institution: InstitutionInfo?

    func value(_ path: FieldPath) -> JSONValue? {
        switch path.source {
        case .record: Lookup.value(record, path.keys)
        case .item: item?[path.keys[0]]
        case .institution: institution?.attribute(path.keys[0])
        }
    }
}

/// Reading nested members.
enum Lookup {
    @inline(__always) static func value(_ object: JSONObject, _ keys: [String]) -> JSONValue? {
        var current = object[keys[0]]
        var index = 1
        while index < keys.count {
            current = current?[keys[index]]
            index += 1
        }
        return current
    }
}

extension Condition {
    /// Whether the condition holds in `context`. A missing field satisfies only `empty`,
    /// `not_in` and `!=`.
    func holds(_ context: ConditionContext) -> Bool {
        switch self {
        case .any(let parts): return parts.contains { $0.holds(context) }
        case .all(let parts): return parts.allSatisfy { $0.holds(context) }
        case .test(let field, let test):
            let value = context.value(field)
            switch test {
            case .oneOf(let scalars): return scalars.contains { $0.matches(value) }
            case .noneOf(let scalars): return !scalars.contains { $0.matches(value) }
            case .compare(let op, let scalar):
                if case .number(let number) = scalar {
                    guard let actual = value?.doubleValue else { return false }
                    return op.holds(actual, number)
                }
                return op == .notEqual ? !scalar.matches(value) : scalar.matches(value)
            case .compareField(let op, let other, let minimum):
                guard let actual = value?.doubleValue, let limit = Condition.limit(context.value(other), minimum) else {
                    return false
                }
                return op.holds(actual, limit)
            case .compareBy(let op, let by, let limits):
                guard let actual = value?.doubleValue, let key = context.value(by)?.stringValue, let limit = limits[key]
                else { return false }
                return op.holds(actual, limit)
            case .comparePer(let op, let items, let itemField, let per):
                guard let actual = value?.doubleValue, let units = Condition.units(context.record, items, itemField), units > 0 else {
                    return false
                }
                return op.holds(actual / units, per)
            case .nonEmpty:
                return (value?.arrayValue?.isEmpty == false)
            case .empty:
                return value?.arrayValue?.isEmpty ?? true
            }
        }
    }

    /// `Σ record[items][].itemField`; nil without the array.
    static func units(_ record: JSONObject, _ items: String, _ itemField: String) -> Double? {
        guard let array = record[items]?.arrayValue else { return nil }
        return array.reduce(0) { $0 + ($1[itemField]?.doubleValue ?? 0) }
    }

    /// `max(other, minimum)`; nil when neither is known.
    static func limit(_ other: JSONValue?, _ minimum: Double?) -> Double? {
        switch (other?.doubleValue, minimum) {
        case (let o?, let m?): max(o, m)
        case (let o?, nil): o
        case (nil, let m?): m
        case (nil, nil): nil
        }
    }

    /// The limit this condition compares against in `context`, when it is a comparison.
    func limit(in context: ConditionContext) -> Double? {
        guard case .test(_, let test) = self else { return nil }
        switch test {
        case .compare(_, .number(let number)): return number
        case .compareField(_, let other, let minimum): return Condition.limit(context.value(other), minimum)
        case .compareBy(_, let by, let limits): return context.value(by)?.stringValue.flatMap { limits[$0] }
        // The amount the record needs: per item unit × its units (m² for its children).
        case .comparePer(_, let items, let itemField, let per): return Condition.units(context.record, items, itemField).map { $0 * per }
        default: return nil
        }
    }

    /// The fields a failing condition is about, for contributor rows.
    var fields: [FieldPath] {
        switch self {
        case .any(let parts), .all(let parts): parts.flatMap(\.fields)
        case .test(let field, let test):
            switch test {
            case .compareField(_, let other, _): [field, other]
            case .compareBy(_, let by, _): [field, by]
            default: [field]
            }
        }
    }
}

extension Array where Element == Condition {
    @inline(__always) func allHold(_ context: ConditionContext) -> Bool {
        for condition in self where !condition.holds(context) { return false }
        return true
    }
}
