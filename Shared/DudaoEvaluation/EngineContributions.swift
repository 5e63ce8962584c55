import DudaoCore
import DudaoFeeds

extension IndicatorEngine {
    /// What one record adds to each aggregate computed from its feed: one entry per aggregate
    /// (with `present` = 1, whether or not the record matched) plus, for joins and town counts,
    /// one entry per year in which the unit has what it must have.
    func contributions(
        _ type: FeedType, _ body: JSONObject, institution: InstitutionInfo?, unitScope: Int32,
        entries: inout [Entry], listings: inout [DeviceListing]
    ) {
        var year: Int32 = 0
        if yearlyFeeds[type.ordinal] {
            guard let value = body["year"]?.intValue, value > 0, value < 4096 else { return }
            year = Int32(value)
        }
        let context = ConditionContext(record: body, item: nil, institution: institution)
        for aggregate in programsByFeed[type.ordinal] {
            let aggregateID = aggregate.id
            let matches = aggregate.conditions.isEmpty || aggregate.conditions.allHold(context)
            switch aggregate.kind {
            case .sum(let fields, let items):
                var value: Int64 = 0
                if matches {
                    if let items {
                        let filtered = !aggregate.itemConditions.isEmpty
                        for element in body[items]?.arrayValue ?? [] {
                            guard case .object(let item) = element else { continue }
                            if filtered {
                                let itemContext = ConditionContext(record: body, item: item, institution: institution)
                                guard aggregate.itemConditions.allHold(itemContext) else { continue }
                            }
                            for field in fields { value &+= FixedPoint.from(item[field.keys[0]]) }
                        }
                    } else {
                        for field in fields { value &+= FixedPoint.from(Lookup.value(body, field.keys)) }
                    }
                }
                entries.append(Entry(aggregate: aggregateID, year: year, value: value, present: 1))
            case .count(let items):
                var count = 0
                if matches, aggregate.match.allHold(context) {
                    if let items {
                        count = itemCount(body, items, aggregate.itemConditions, institution)
                    } else {
                        count = 1
                    }
                }
                entries.append(Entry(aggregate: aggregateID, year: year, value: FixedPoint.from(count: count), present: 1))
            case .units(let having, _):
                var everyYear = Entry(aggregate: aggregateID, year: 0, value: 0, present: 1)
                if matches {
                    if sums.get(having, slot: 0, scope: unitScope).value > 0 {
                        everyYear.value = FixedPoint.one
                    } else {
                        for year in years where sums.get(having, year: Int(year), scope: unitScope).value > 0 {
                            entries.append(Entry(aggregate: aggregateID, year: year, value: FixedPoint.one, present: 0))
                        }
                    }
                }
                entries.append(everyYear)
            case .online(let field, _):
                entries.append(Entry(aggregate: aggregateID, year: 0, value: 0, present: 1))
                if matches {
                    var ids: [Int32] = []
                    for element in body[field]?.arrayValue ?? [] {
                        if let name = element.stringValue { ids.append(devices.id(name)) }
                    }
                    if !ids.isEmpty { listings.append(DeviceListing(aggregate: aggregateID, devices: ids)) }
                }
            }
        }
    }

    /// Items of `items` meeting `conditions` (identifier arrays: every element counts).
    func itemCount(_ body: JSONObject, _ items: String, _ conditions: [Condition], _ institution: InstitutionInfo?) -> Int {
        guard let elements = body[items]?.arrayValue else { return 0 }
        if conditions.isEmpty { return elements.count }
        var count = 0
        for element in elements {
            guard case .object(let item) = element else { continue }
            if conditions.allHold(ConditionContext(record: body, item: item, institution: institution)) { count += 1 }
        }
        return count
    }
}
