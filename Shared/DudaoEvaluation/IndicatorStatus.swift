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
