import DudaoCore
import DudaoFeeds

/// How an enrolment indicator moves when the kindergarten places still being built open: the
/// catalog's `forecast` member.
///
/// ```json
/// "forecast": {"seats": "numerator", "cohort": true}
/// ```
///
/// - `seats`: where the new places count — `numerator` (more children enrolled: the gross
///   enrolment rate), or `both` (a share whose part is in the whole: new public places raise the
///   public children and all children).
/// - `cohort`: the denominator is the year's resident children (population cohorts), taken from
///   the forecast year when its cohorts are in, else from the base year.
public struct ForecastRule: Sendable, Equatable {
    public enum Seats: String, Sendable, CaseIterable {
        case numerator
        case both
    }

    public var seats: Seats
    public var cohort: Bool

    init(_ value: JSONValue) throws(CatalogIssue) {
        let object = try CatalogObject(value, "forecast", allowed: ["seats", "cohort"])
        let text = try object.string("seats")
        guard let seats = Seats(rawValue: text) else {
            throw CatalogIssue("forecast.seats must be numerator or both, got \"\(text)\"")
        }
        self.seats = seats
        switch object.object["cohort"] {
        case nil: cohort = false
        case .bool(let flag)?: cohort = flag
        case let other?: throw CatalogIssue("forecast.cohort must be true or false, got \(describe(other))")
        }
    }
}

/// An indicator's value in a coming year if the places being built open as due.
public struct Projection: Sendable {
    public var value: Double
    public var numerator: Double
    public var denominator: Double
    /// Judged against the target of the forecast year.
    public var status: IndicatorStatus
    public var target: Double?
}

extension IndicatorEngine {
    /// `base` (the city's result of an earlier year) moved by `seats` new places, over `cohort`
    /// resident children when the rule reads cohorts (nil: the base year's), judged against the
    /// target of `year`. Nil when the indicator has no forecast rule or the base has no figures.
    public func project(_ base: IndicatorResult, seats: Double, cohort: Double?, year: Int) -> Projection? {
        guard let indicator = catalog.indicator(base.id), let rule = indicator.forecast, case .ratio(_, _, let factor) = indicator.compiled,
            let n = base.numerator, let d = base.denominator
        else { return nil }
        let numerator = n + seats
        var denominator = rule.seats == .both ? d + seats : d
        if rule.cohort, let cohort { denominator = cohort }
        guard denominator > 0 else { return nil }
        let value = factor * numerator / denominator
        let target = indicator.target.fixedTarget(for: year)
        let status: IndicatorStatus
        if let target, let op = indicator.op {
            status = IndicatorStatus.judge(value, op: op, target: target, margin: indicator.atRiskMargin)
        } else {
            status = .tracked
        }
        return Projection(value: value, numerator: numerator, denominator: denominator, status: status, target: target)
    }

    /// The current version of every record of `type`, as stored (for what reads them whole:
    /// the forecast's projects).
    public func bodies(of type: FeedType) -> [JSONObject] {
        stores[type.ordinal].values.map(\.body)
    }
}
