import DudaoCore

/// One indicator of the catalog, as declared in the catalog file.
public struct IndicatorDefinition: Sendable {
    /// Stable id, e.g. `preschool.gross_enrollment_rate`; unique across the catalogs loaded together.
    public var id: String
    /// The `name` of the catalog that declares it (`enping-2023-2025`, `national-2020`).
    public var catalog: String
    /// Chinese name, as the plan words it.
    public var nameZh: String
    /// English name.
    public var nameEn: String
    /// `%`, `元`, `人`, `个`, `ratio` (children per teacher) ...
    public var unit: String
    /// `>=` (reach the target) or `<=` (do not exceed it); nil = tracked, never judged.
    public var op: String?
    /// Which target applies in which year.
    public var target: TargetRule
    /// Where the indicator is evaluated.
    public var scopes: Set<ScopeKind>
    /// The plan clause(s), e.g. `二(一); 三(一)1(1)`.
    public var clause: String
    /// Responsible departments (routing), always including `education`.
    public var departments: [String]
    /// A met value this close to the target (in the value's unit) is `at_risk`; 0 = never.
    public var atRiskMargin: Double
    /// The formula as written in the catalog.
    public var formula: JSONValue
    /// How a miss is told in things to do (a ratio's `gap`), if the catalog says.
    public var gap: GapRule?
    /// How the value moves as places being built open (the forecast), if the catalog says.
    public var forecast: ForecastRule?
    /// The line of the indicator in the catalog file.
    public var line: Int

    /// The compiled formula (aggregate indices into the catalog's plan).
    var compiled: Formula
}

/// The target of an indicator over the years.
public enum TargetRule: Sendable, Equatable {
    /// No number: always tracked.
    case none
    /// Targets by year, carried forward: the target for Y is the one of the latest year <= Y;
    /// before the first year the indicator is tracked. Sorted by year.
    case byYear([YearTarget])
    /// The indicator's own value of the previous year, at the same scope (只增不减).
    case previousYear

    /// The fixed target for `year`, when this rule gives one.
    public func fixedTarget(for year: Int) -> Double? {
        guard case .byYear(let targets) = self else { return nil }
        var found: Double?
        for target in targets where target.year <= year { found = target.value }
        return found
    }
}

/// A target set for one year.
public struct YearTarget: Sendable, Equatable {
    /// The year the target is set for (it holds until a later year sets another).
    public var year: Int
    /// The target value, in the indicator's unit.
    public var value: Double

    /// A target of `value` from `year` on.
    public init(year: Int, value: Double) {
        self.year = year
        self.value = value
    }
}
