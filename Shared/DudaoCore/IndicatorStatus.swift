/// The status of an evaluated indicator, spelled as on the wire (SPEC section 4).
public enum IndicatorStatus: String, Sendable, CaseIterable {
    /// The value reaches the target, with room to spare.
    case met
    /// The value misses the target.
    case notMet = "not_met"
    /// The value reaches the target but is within the indicator's at-risk margin of it.
    case atRisk = "at_risk"
    /// A denominator or an input is missing (or zero); the value is null.
    case noData = "no_data"
    /// The plan sets no number for this year: the value is reported, not judged.
    case tracked
}

extension IndicatorStatus {
    /// The one judgement of a value against a target, for the plan's indicators and the safety
    /// service's rates alike: met / not_met / at_risk. Values within 10⁻⁹ (relative) of the
    /// target count as equal to it; at_risk = met but `value < target + margin` (for `>=`) or
    /// `value > target − margin` (for `<=`).
    public static func judge(_ value: Double, op: String, target: Double, margin: Double) -> IndicatorStatus {
        let epsilon = 1e-9 * max(1, abs(target))
        if op == ">=" {
            guard value >= target - epsilon else { return .notMet }
            return margin > 0 && value < target + margin - epsilon ? .atRisk : .met
        }
        guard value <= target + epsilon else { return .notMet }
        return margin > 0 && value > target - margin + epsilon ? .atRisk : .met
    }
}
