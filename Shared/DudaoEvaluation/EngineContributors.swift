import DudaoCore
import DudaoFeeds

extension IndicatorEngine {
    /// The units that pull an indicator down at a scope, worst first, at most `limit` rows:
    ///
    /// - part-of-whole rates over items (class size, "two teachers one carer"): the classes
    ///   that fail, with the field values and the limit they were held to;
    /// - part-of-whole rates over records (inclusive coverage): the records that count in the
    ///   denominator but not (fully) in the numerator, largest shortfall first;
    /// - joins (safety rates): registered kindergartens not compliant, `unreported: true` when
    ///   they never sent the joined feed; town counts: towns without what they must have;
    /// - other ratios (children per teacher, gross enrolment): the institutions (or towns) whose
    ///   own ratio misses the target (tracked: is worse than the scope's value), worst first;
    /// - counts with `match` (projects): records not matching yet; `<=` counts (large classes):
    ///   what is counted; live device counts: devices offline.
    ///
    /// City-wide single figures (finance, talent, surveys) have no contributors.
    public func contributors(indicator id: String, year: Int, scope: Scope, now: Timestamp, limit: Int) -> [JSONValue] {
        guard limit > 0, let indicator = catalog.indicators.first(where: { $0.id == id }),
            indicator.scopes.contains(scope.kind), let scopeID = scopeTable.existing(scope)
        else { return [] }
        var rows: [ContributorRow]
        switch indicator.compiled {
        case .ratio(let n, let d, _):
            let numerator = aggregates[n], denominator = aggregates[d]
            if case .online = numerator.kind {
                rows = offlineDevices(n, scope: scopeID, now: now)
            } else if case .units = numerator.kind {
                rows = missingUnits(n, within: d, year: year, scope: scopeID)
            } else if IndicatorEngine.isPart(numerator, of: denominator) {
                rows =
                    numerator.itemConditions != denominator.itemConditions
                    ? failingItems(n, within: d, year: year, scope: scopeID)
                    : shortfalls(n, within: d, year: year, scope: scopeID)
            } else {
                rows = worstGroups(indicator, year: year, scope: scopeID, now: now)
            }
        case .aggregate(let a):
            let aggregate = aggregates[a]
            switch aggregate.kind {
            case .units:
                rows = missingUnits(a, within: nil, year: year, scope: scopeID)
            case .count(let items) where !aggregate.match.isEmpty || (indicator.op == "<=" && items != nil):
                rows = items != nil && aggregate.match.isEmpty
                    ? countedItems(a, year: year, scope: scopeID) : unmatched(a, year: year, scope: scopeID)
            default:
                rows = ranked(a, descending: indicator.op == "<=", year: year, scope: scopeID)
            }
        }
        rows.sort { $0.rank != $1.rank ? $0.rank > $1.rank : $0.tieBreak < $1.tieBreak }
        return rows.prefix(limit).map { .object($0.fields) }
    }

    /// Whether `part` counts a subset of what `whole` counts (same feed and measure, more conditions).
    static func isPart(_ part: Aggregate, of whole: Aggregate) -> Bool {
        guard part.feed == whole.feed else { return false }
        switch (part.kind, whole.kind) {
        case (.sum(let f1, let i1), .sum(let f2, let i2)): return f1 == f2 && i1 == i2
        case (.count(let i1), .count(let i2)): return i1 == i2
        default: return false
        }
    }

    // MARK: - Records in scope

    /// The records of `feed` counting at `scope` in `year`.
    func records(_ feed: FeedType, year: Int, scope: Int32) -> [(key: String, state: RecordState)] {
        let yearly = yearlyFeeds[feed.ordinal]
        var result: [(key: String, state: RecordState)] = []
        for (key, state) in stores[feed.ordinal] where state.scopes.contains(scope) {
            if yearly, state.year != Int64(year) { continue }
            result.append((key, state))
        }
        return result
    }

    /// What a record contributes to `aggregate` in `year` (millionths).
    func contribution(_ state: RecordState, _ aggregate: Int, year: Int) -> Int64 {
        var total: Int64 = 0
        for entry in state.entries where Int(entry.aggregate) == aggregate && (entry.year == 0 || Int(entry.year) == year) {
            total &+= entry.value
        }
        return total
    }

    /// Identifying members of a record's row: ids, registered town, name.
    func identity(_ type: FeedType, _ state: RecordState) -> JSONObject {
        var row = JSONObject()
        for field in FeedFields.identity(type) {
            if let value = state.body[field] { row[field] = value }
        }
        if let id = state.institutionID, let info = institutions[id] {
            row["town_id"] = .string(info.town)
            if let name = stores[FeedType.registryInstitution.ordinal][id]?.body["name"] { row["name"] = name }
        } else if let name = state.body["name"] {
            row["name"] = name
        }
        return row
    }

    func institutionContext(_ type: FeedType, _ state: RecordState) -> InstitutionInfo? {
        FeedFields.binding(type) == .institution ? state.institutionID.flatMap { institutions[$0] } : nil
    }

    /// Adds the values of the fields of the conditions that fail, and the first failing limit.
    func explain(_ conditions: [Condition], _ context: ConditionContext, into row: inout JSONObject) {
        var failed: [JSONValue] = []
        for condition in conditions where !condition.holds(context) {
            for field in condition.fields where row[field.text] == nil {
                row[field.text] = context.value(field) ?? .null
            }
            if row["limit"] == nil, let limit = condition.limit(in: context) { row["limit"] = JSONNumber.value(limit) }
            failed.append(contentsOf: condition.fields.prefix(1).map { .string($0.text) })
        }
        if !failed.isEmpty { row["failed"] = .array(failed) }
    }

    // MARK: - Kinds of contributors

    func failingItems(_ n: Int, within d: Int, year: Int, scope: Int32) -> [ContributorRow] {
        let numerator = aggregates[n], denominator = aggregates[d]
        guard let items = IndicatorEngine.items(of: denominator) else { return [] }
        var rows: [ContributorRow] = []
        for (key, state) in records(denominator.feed, year: year, scope: scope) {
            let institution = institutionContext(denominator.feed, state)
            let context = ConditionContext(record: state.body, item: nil, institution: institution)
            guard denominator.conditions.allHold(context) else { continue }
            let recordFails = !numerator.conditions.allHold(context) || !numerator.match.allHold(context)
            for element in state.body[items]?.arrayValue ?? [] {
                guard case .object(let item) = element else { continue }
                let itemContext = ConditionContext(record: state.body, item: item, institution: institution)
                guard denominator.itemConditions.allHold(itemContext) else { continue }
                guard recordFails || !numerator.itemConditions.allHold(itemContext) else { continue }
                var row = identity(denominator.feed, state)
                if let classID = item["class_id"] { row["class_id"] = classID }
                explain(numerator.conditions, context, into: &row)
                explain(numerator.itemConditions, itemContext, into: &row)
                rows.append(ContributorRow(fields: row, rank: 0, tieBreak: key + "|" + (item["class_id"]?.stringValue ?? "")))
            }
        }
        return rows
    }

    func shortfalls(_ n: Int, within d: Int, year: Int, scope: Int32) -> [ContributorRow] {
        let numerator = aggregates[n], denominator = aggregates[d]
        var rows: [ContributorRow] = []
        for (key, state) in records(denominator.feed, year: year, scope: scope) {
            let whole = contribution(state, d, year: year)
            let part = contribution(state, n, year: year)
            guard whole > part else { continue }
            var row = identity(denominator.feed, state)
            row["numerator"] = JSONNumber.value(FixedPoint.double(part))
            row["denominator"] = JSONNumber.value(FixedPoint.double(whole))
            let context = ConditionContext(
                record: state.body, item: nil, institution: institutionContext(denominator.feed, state))
            explain(numerator.conditions + numerator.match, context, into: &row)
            rows.append(ContributorRow(fields: row, rank: FixedPoint.double(whole - part), tieBreak: key))
        }
        return rows
    }

    /// Base units (registered institutions or towns) in the denominator without the numerator.
    func missingUnits(_ n: Int, within d: Int?, year: Int, scope: Int32) -> [ContributorRow] {
        let numerator = aggregates[n]
        guard case .units(let having, let joinFeed) = numerator.kind else { return [] }
        var rows: [ContributorRow] = []
        for (key, state) in records(numerator.feed, year: year, scope: scope) {
            let context = ConditionContext(
                record: state.body, item: nil, institution: institutionContext(numerator.feed, state))
            if let d {
                guard contribution(state, d, year: year) > 0 else { continue }
            } else {
                guard numerator.conditions.allHold(context) else { continue }
            }
            guard contribution(state, n, year: year) == 0 else { continue }
            var row = identity(numerator.feed, state)
            if numerator.feed == .registryInstitution {
                let joined = recordsByInstitution[key, default: []].filter { $0.feed == joinFeed.ordinal }
                    .compactMap { stores[$0.feed][$0.key] }
                    .filter { !yearlyFeeds[joinFeed.ordinal] || $0.year == Int64(year) }
                row["unreported"] = .bool(joined.isEmpty)
                if let first = joined.first {
                    let joinContext = ConditionContext(
                        record: first.body, item: nil, institution: institutionContext(joinFeed, first))
                    explain(aggregates[having].conditions, joinContext, into: &row)
                }
            }
            rows.append(ContributorRow(fields: row, rank: row["unreported"] == .bool(true) ? 1 : 0, tieBreak: key))
        }
        return rows
    }

    /// Institutions (or towns) whose own ratio misses the target, worst first.
    func worstGroups(_ indicator: IndicatorDefinition, year: Int, scope: Int32, now: Timestamp) -> [ContributorRow] {
        guard case .ratio(let n, let d, let factor) = indicator.compiled else { return [] }
        let feeds = [aggregates[n].feed, aggregates[d].feed]
        let bindings = feeds.map { FeedFields.binding($0) }
        let scopeKind = scopeTable.scopes[Int(scope)].kind
        let byInstitution = bindings.allSatisfy { $0 == .institution } && scopeKind != .institution
        let byTown = !byInstitution && scopeKind == .city && !bindings.contains(.city)
        guard byInstitution || byTown else { return [] }
        var groups: [Int32: (numerator: Int64, denominator: Int64)] = [:]
        for (aggregate, isNumerator) in [(n, true), (d, false)] {
            for (_, state) in records(aggregates[aggregate].feed, year: year, scope: scope) {
                guard let unit = byInstitution ? state.scopes.last : state.scopes.dropFirst().first else { continue }
                let amount = contribution(state, aggregate, year: year)
                if isNumerator { groups[unit, default: (0, 0)].numerator &+= amount } else {
                    groups[unit, default: (0, 0)].denominator &+= amount
                }
            }
        }
        let overall = compute(indicator.compiled, year: year, scope: scope, now: now).value
        let target: Double? = indicator.target == .previousYear ? nil : indicator.target.fixedTarget(for: year)
        let lowerIsWorse = indicator.op != "<="
        var rows: [ContributorRow] = []
        for (unit, figures) in groups {
            let numerator = FixedPoint.double(figures.numerator), denominator = FixedPoint.double(figures.denominator)
            var row = JSONObject()
            switch scopeTable.scopes[Int(unit)] {
            case .institution(let id):
                row["institution_id"] = .string(id)
                if let info = institutions[id] { row["town_id"] = .string(info.town) }
                if let name = stores[FeedType.registryInstitution.ordinal][id]?.body["name"] { row["name"] = name }
            case .town(let id):
                row["town_id"] = .string(id)
                if let name = stores[FeedType.registryTown.ordinal][id]?.body["name"] { row["name"] = name }
            case .city:
                continue
            }
            guard denominator != 0 else {
                guard numerator != 0 else { continue }
                row["value"] = .null
                row["numerator"] = JSONNumber.value(numerator)
                row["denominator"] = JSONNumber.value(denominator)
                rows.append(ContributorRow(fields: row, rank: .infinity, tieBreak: scopeTable.scopes[Int(unit)].text))
                continue
            }
            let value = factor * numerator / denominator
            if let target, let op = indicator.op {
                guard IndicatorStatus.judge(value, op: op, target: target, margin: 0) == .notMet else { continue }
            } else if let overall {
                guard lowerIsWorse ? value < overall : value > overall else { continue }
            }
            row["value"] = JSONNumber.value(value)
            row["numerator"] = JSONNumber.value(numerator)
            row["denominator"] = JSONNumber.value(denominator)
            rows.append(
                ContributorRow(fields: row, rank: lowerIsWorse ? -value : value, tieBreak: scopeTable.scopes[Int(unit)].text))
        }
        return rows
    }

    /// Records meeting `where` but not `match` (projects not done yet).
    func unmatched(_ a: Int, year: Int, scope: Int32) -> [ContributorRow] {
        let aggregate = aggregates[a]
        var rows: [ContributorRow] = []
        for (key, state) in records(aggregate.feed, year: year, scope: scope) {
            let context = ConditionContext(record: state.body, item: nil, institution: institutionContext(aggregate.feed, state))
            guard aggregate.conditions.allHold(context), !aggregate.match.allHold(context) else { continue }
            var row = identity(aggregate.feed, state)
            explain(aggregate.match, context, into: &row)
            rows.append(ContributorRow(fields: row, rank: 0, tieBreak: key))
        }
        return rows
    }

    /// The items a `<=` count counts (large classes), largest first.
    func countedItems(_ a: Int, year: Int, scope: Int32) -> [ContributorRow] {
        let aggregate = aggregates[a]
        guard let items = IndicatorEngine.items(of: aggregate) else { return [] }
        var rows: [ContributorRow] = []
        for (key, state) in records(aggregate.feed, year: year, scope: scope) {
            let institution = institutionContext(aggregate.feed, state)
            guard aggregate.conditions.allHold(ConditionContext(record: state.body, item: nil, institution: institution))
            else { continue }
            for element in state.body[items]?.arrayValue ?? [] {
                guard case .object(let item) = element else { continue }
                let context = ConditionContext(record: state.body, item: item, institution: institution)
                guard aggregate.itemConditions.allHold(context) else { continue }
                var row = identity(aggregate.feed, state)
                if let classID = item["class_id"] { row["class_id"] = classID }
                for field in aggregate.itemConditions.flatMap(\.fields) { row[field.text] = context.value(field) ?? .null }
                let size = aggregate.itemConditions.flatMap(\.fields).first.flatMap { context.value($0)?.doubleValue } ?? 0
                rows.append(ContributorRow(fields: row, rank: size, tieBreak: key + "|" + (item["class_id"]?.stringValue ?? "")))
            }
        }
        return rows
    }

    /// Records by their contribution (largest first for `<=`, smallest first otherwise);
    /// none for city-wide figures of a year.
    func ranked(_ a: Int, descending: Bool, year: Int, scope: Int32) -> [ContributorRow] {
        let aggregate = aggregates[a]
        let schema = FeedFields.schema(aggregate.feed)
        if schema.binding == .city, schema.yearly { return [] }
        var rows: [ContributorRow] = []
        for (key, state) in records(aggregate.feed, year: year, scope: scope) {
            let context = ConditionContext(record: state.body, item: nil, institution: institutionContext(aggregate.feed, state))
            guard aggregate.conditions.allHold(context) else { continue }
            let amount = FixedPoint.double(contribution(state, a, year: year))
            if descending, amount == 0 { continue }
            var row = identity(aggregate.feed, state)
            row["value"] = JSONNumber.value(amount)
            rows.append(ContributorRow(fields: row, rank: descending ? amount : -amount, tieBreak: key))
        }
        return rows
    }

    /// Listed devices not online at `now`: never heard from first, then oldest heartbeat first.
    func offlineDevices(_ a: Int, scope: Int32, now: Timestamp) -> [ContributorRow] {
        guard case .online(_, let window) = aggregates[a].kind else { return [] }
        var rows: [ContributorRow] = []
        for (key, state) in records(aggregates[a].feed, year: 0, scope: scope) {
            for listing in state.devices where Int(listing.aggregate) == a {
                for device in listing.devices where !devices.isOnline(device, now: now.millis, window: window) {
                    var row = identity(aggregates[a].feed, state)
                    row["device_id"] = .string(devices.names[Int(device)])
                    let last = devices.lastAt[Int(device)]
                    row["last_heartbeat"] = last == Int64.min ? .null : .string(Timestamp(millis: last).description)
                    row["status"] = last == Int64.min ? .null : .string(devices.ok[Int(device)] ? "ok" : "fault")
                    let rank = last == Int64.min ? Double.infinity : -Double(last)
                    rows.append(ContributorRow(fields: row, rank: rank, tieBreak: key + "|" + devices.names[Int(device)]))
                }
            }
        }
        return rows
    }

    static func items(of aggregate: Aggregate) -> String? {
        switch aggregate.kind {
        case .sum(_, let items), .count(let items): items
        default: nil
        }
    }
}

/// One contributor row with its sort key (higher rank first).
struct ContributorRow {
    var fields: JSONObject
    var rank: Double
    var tieBreak: String
}
