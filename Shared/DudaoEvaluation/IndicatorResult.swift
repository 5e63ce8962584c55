import DudaoCore

/// One indicator evaluated for a year and a scope (SPEC section 4).
public struct IndicatorResult: Sendable, Equatable {
    /// The indicator id.
    public var id: String
    /// Chinese name.
    public var nameZh: String
    /// English name.
    public var nameEn: String
    /// Null when `no_data`; otherwise the unrounded double-precision result.
    public var value: Double?
    /// The value's unit (`%`, `元`, `ratio`, ...).
    public var unit: String
    /// `>=`, `<=`, or nil for a tracked indicator.
    public var op: String?
    /// The target that applies to the year (nil when tracked, or when a previous-year target is missing).
    public var target: Double?
    /// `met`, `not_met`, `at_risk`, `no_data` or `tracked`.
    public var status: IndicatorStatus
    /// Σ numerator (or the aggregate itself for a single-figure indicator); nil when missing.
    public var numerator: Double?
    /// Σ denominator; nil for single figures or when missing.
    public var denominator: Double?
    /// The plan clause(s).
    public var clause: String
    /// Responsible departments.
    public var departments: [String]
    /// The catalog that declares the indicator (`enping-2023-2025`, `national-2020`).
    public var catalog: String

    /// A result with every member given.
    public init(
        id: String, nameZh: String, nameEn: String, value: Double?, unit: String, op: String?, target: Double?,
        status: IndicatorStatus, numerator: Double?, denominator: Double?, clause: String, departments: [String],
        catalog: String = ""
    ) {
        self.catalog = catalog
        self.id = id
        self.nameZh = nameZh
        self.nameEn = nameEn
        self.value = value
        self.unit = unit
        self.op = op
        self.target = target
        self.status = status
        self.numerator = numerator
        self.denominator = denominator
        self.clause = clause
        self.departments = departments
    }

    /// The wire form: SPEC section 4's members (`id`, `value`, `unit`, `op`, `target`, `status`,
    /// `numerator`, `denominator`, `clause`) plus `name_zh`, `name_en`, `departments` and `catalog`.
    /// Whole numbers are written as integers; `value` is otherwise not rounded.
    public var json: JSONValue {
        let object: JSONObject = [
            "id": .string(id),
            "name_zh": .string(nameZh),
            "name_en": .string(nameEn),
            "value": JSONNumber.value(value),
            "unit": .string(unit),
            "op": op.map(JSONValue.string) ?? .null,
            "target": JSONNumber.value(target),
            "status": .string(status.rawValue),
            "numerator": JSONNumber.value(numerator),
            "denominator": JSONNumber.value(denominator),
            "clause": .string(clause),
            "departments": .array(departments.map(JSONValue.string)),
            "catalog": .string(catalog),
        ]
        return .object(object)
    }
}

/// Numbers for JSON output: whole values as integers, others as doubles, nil as null.
enum JSONNumber {
    static func value(_ number: Double?) -> JSONValue {
        guard let number else { return .null }
        guard number.isFinite else { return .null }
        if number.rounded() == number, abs(number) < 9.0e15 { return .int(Int64(number)) }
        return .double(number)
    }
}
