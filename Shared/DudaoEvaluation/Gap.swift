import DudaoCore

/// How far a missed indicator is from its target, in things people can act on ("还需增加公办学位
/// 420 个", "还需 3 名持证教师"): the catalog's `gap` member says which figure has to move and
/// how the sentence reads.
///
/// ```json
/// "gap": {"solve": "numerator", "zh": "还需 {n} 名专任教师取得教师资格证"}
/// ```
///
/// - `numerator`: the numerator alone moves (teachers getting certified, classes brought under
///   the limit): `n` more (for `>=`) or fewer (for `<=`) until the ratio meets the target.
/// - `numerator_within`: what the numerator counts is also counted by the denominator (new
///   public places raise both the public places and all places): `x` with
///   `(n + x) / (d + x)` meeting the target.
/// - `denominator`: the denominator alone moves (more teachers for as many children).
/// - `value`: a single figure (a count, a sum) moves to its target (seats still to build, large
///   classes still to remove).
public struct GapRule: Sendable, Equatable {
    public enum Solve: String, Sendable, CaseIterable {
        case numerator
        case numeratorWithin = "numerator_within"
        case denominator
        case value
    }

    public var solve: Solve
    /// The sentence, `{n}` standing for the amount.
    public var zh: String

    static let members = ["solve", "zh"]

    init(_ value: JSONValue) throws(CatalogIssue) {
        let object = try CatalogObject(value, "gap", allowed: GapRule.members)
        let text = try object.string("solve")
        guard let solve = Solve(rawValue: text) else {
            throw CatalogIssue("gap.solve must be one of \(Solve.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        let zh = try object.string("zh")
        guard zh.contains("{n}") else { throw CatalogIssue("gap.zh must say where the amount goes with {n}") }
        self.solve = solve
        self.zh = zh
    }
}

/// A missed indicator's distance from its target.
public struct Gap: Sendable, Equatable {
    /// How many (places, teachers, classes, towns …), rounded up: the least that meets the target.
    public var amount: Int64
    /// The catalog's sentence with the amount in it.
    public var zh: String

    public init(amount: Int64, zh: String) {
        self.amount = amount
        self.zh = zh
    }

    public var json: JSONValue { ["amount": .int(amount), "zh": .string(zh)] }
}

extension GapRule {
    /// The gap of `result` (`factor`: the formula's), nil when it is not `not_met`, or when its
    /// figures do not allow a finite answer (no denominator, a share target of 100 % to reach by
    /// adding to both sides).
    func gap(of result: IndicatorResult, factor: Double) -> Gap? {
        guard result.status == .notMet, let target = result.target, let op = result.op, factor > 0 else { return nil }
        if solve == .value {
            guard let value = result.value else { return nil }
            return gap(op == ">=" ? target - value : value - target)
        }
        guard let n = result.numerator, let d = result.denominator else { return nil }
        let share = target / factor
        let needed: Double
        switch (solve, op) {
        case (.numerator, ">="): needed = share * d - n
        case (.numerator, _): needed = n - share * d
        case (.numeratorWithin, ">="):
            guard share < 1 else { return nil }
            needed = (share * d - n) / (1 - share)
        case (.numeratorWithin, _):
            guard share < 1 else { return nil }
            needed = (n - share * d) / (1 - share)
        case (.denominator, "<="):
            guard share > 0 else { return nil }
            needed = n / share - d
        case (.denominator, _):
            guard share > 0 else { return nil }
            needed = d - n / share
        case (.value, _):
            return nil
        }
        return gap(needed)
    }

    /// `needed`, rounded up, in the sentence.
    private func gap(_ needed: Double) -> Gap? {
        guard needed.isFinite, needed > 0 else { return nil }
        // Rounded up, but a figure a hair above a whole number (floating point) is that number.
        let amount = Int64((needed - 1e-9).rounded(.up))
        return Gap(amount: max(1, amount), zh: zh.replacing("{n}", with: String(max(1, amount))))
    }
}
