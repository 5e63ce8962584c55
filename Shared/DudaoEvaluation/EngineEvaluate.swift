import DudaoCore

extension IndicatorEngine {
    /// Every indicator of catalog `name` (nil: the primary catalog, the plan) that applies at
    /// `scope`, in catalog order, for `year`. `now` is the evaluation time of live figures
    /// (device heartbeats).
    public func evaluate(year: Int, scope: Scope, now: Timestamp, catalog name: String? = nil) -> [IndicatorResult] {
        let scopeID = scopeTable.existing(scope)
        let wanted = name ?? catalog.name
        var results: [IndicatorResult] = []
        results.reserveCapacity(catalog.indicators.count)
        for indicator in catalog.indicators where indicator.catalog == wanted && indicator.scopes.contains(scope.kind) {
            results.append(result(indicator, year: year, scope: scopeID, now: now))
        }
        return results
    }

    /// How far `result` is from its target in the catalog's words (``GapRule``); nil when it is
    /// not `not_met` or its indicator declares no `gap`.
    public func gap(of result: IndicatorResult) -> Gap? {
        guard let indicator = catalog.indicator(result.id), let rule = indicator.gap else { return nil }
        if case .ratio(_, _, let factor) = indicator.compiled { return rule.gap(of: result, factor: factor) }
        return rule.gap(of: result, factor: 1)
    }

    /// One indicator, or nil when the catalog has no such id or it does not apply at `scope`.
    public func evaluate(indicator id: String, year: Int, scope: Scope, now: Timestamp) -> IndicatorResult? {
        guard let indicator = catalog.indicators.first(where: { $0.id == id }), indicator.scopes.contains(scope.kind)
        else { return nil }
        return result(indicator, year: year, scope: scopeTable.existing(scope), now: now)
    }

    func result(_ indicator: IndicatorDefinition, year: Int, scope: Int32?, now: Timestamp) -> IndicatorResult {
        let figures = compute(indicator.compiled, year: year, scope: scope, now: now)
        var value = figures.value
        var target: Double?
        let status: IndicatorStatus
        switch indicator.target {
        case .none: target = nil
        case .byYear: target = indicator.target.fixedTarget(for: year)
        case .previousYear: target = compute(indicator.compiled, year: year - 1, scope: scope, now: now).value
        }
        if value == nil {
            status = .noData
        } else if indicator.op == nil {
            status = .tracked
        } else if indicator.target == .previousYear, target == nil {
            status = .noData
            value = nil
        } else if let target, let op = indicator.op, let value {
            status = IndicatorStatus.judge(value, op: op, target: target, margin: indicator.atRiskMargin)
        } else {
            status = .tracked
        }
        return IndicatorResult(
            id: indicator.id, nameZh: indicator.nameZh, nameEn: indicator.nameEn, value: value, unit: indicator.unit,
            op: indicator.op, target: target, status: status, numerator: figures.numerator,
            denominator: figures.denominator, clause: indicator.clause, departments: indicator.departments,
            catalog: indicator.catalog)
    }

    /// Value, numerator and denominator of a formula (value nil = no data).
    func compute(_ formula: Formula, year: Int, scope: Scope?, now: Timestamp) -> (
        value: Double?, numerator: Double?, denominator: Double?
    ) {
        compute(formula, year: year, scope: scope.flatMap { scopeTable.existing($0) }, now: now)
    }

    func compute(_ formula: Formula, year: Int, scope: Int32?, now: Timestamp) -> (
        value: Double?, numerator: Double?, denominator: Double?
    ) {
        guard let scope else { return (nil, nil, nil) }
        switch formula {
        case .aggregate(let aggregate):
            let amount = self.amount(aggregate, year: year, scope: scope, now: now)
            return (amount, amount, nil)
        case .ratio(let n, let d, let factor):
            let numerator = amount(n, year: year, scope: scope, now: now)
            let denominator = amount(d, year: year, scope: scope, now: now)
            guard let numerator, let denominator, denominator != 0 else { return (nil, numerator, denominator) }
            return ((factor * numerator) / denominator, numerator, denominator)
        }
    }

    /// The sum of an aggregate for `year` at `scope` (records of that year plus records of
    /// every year); nil when no record of the aggregate's feed is present there.
    func amount(_ aggregate: Int, year: Int, scope: Int32, now: Timestamp) -> Double? {
        let sum = accumulator(aggregate, year: year, scope: scope)
        guard sum.present > 0 else { return nil }
        if case .online(_, let window) = aggregates[aggregate].kind {
            var count: Int64 = 0
            for (device, multiplicity) in online[aggregate]?.devicesByScope[scope] ?? [:]
            where devices.isOnline(device, now: now.millis, window: window) {
                count += Int64(multiplicity)
            }
            return Double(count)
        }
        return FixedPoint.double(sum.value)
    }

    func accumulator(_ aggregate: Int, year: Int, scope: Int32) -> Accumulator {
        var sum = sums.get(aggregate, slot: 0, scope: scope)
        if year > 0, let slot = sums.existingSlot(year) {
            let yearly = sums.get(aggregate, slot: slot, scope: scope)
            sum.value &+= yearly.value
            sum.present &+= yearly.present
        }
        return sum
    }
}
