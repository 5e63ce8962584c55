/// The level of a registered institution (`registry.institution` field `level`).
public enum InstitutionLevel: String, Sendable, CaseIterable {
    case kindergarten
    case primary
    case junior
    /// A school covering grades 1–9 (九年一贯制).
    case nineYear = "nine_year"
    case seniorHigh = "senior_high"
    /// A special-education school.
    case special
}
