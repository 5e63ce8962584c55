import DudaoCore
import DudaoFeeds

/// Compiles formulas into a shared list of aggregates; identical aggregates (same feed, kind
/// and conditions) are declared once and feed every indicator that uses them.
///
/// ```
/// FORMULA = AGG | {"ratio": {"numerator": AGG, "denominator": AGG}, "factor": 100}
/// AGG = {"sum":   {"feed": F, "field": "classes[].children" | "fields": [...], "where": [...], "where_item": [...]}}
///     | {"value": {"feed": F, "field": "public_kg_per_pupil_yuan", "where": [...]}}
///     | {"count": {"feed": F, "items": "classes", "where": [...], "where_item": [...], "match": [...]}}
///     | {"count": {"feed": "registry.institution", "where": [...], "joined": {"feed": F, "where": [...]}}}
///     | {"count": {"feed": "registry.town", "where": [...], "having": {"feed": F, "where": [...]}}}
///     | {"online": {"feed": "safety.inventory", "devices": "alarm_devices", "heartbeat": "safety.heartbeat",
///                   "offline_after": 180, "where": [...]}}
/// ```
struct PlanBuilder {
    private(set) var aggregates: [Aggregate] = []
    private var index: [String: Int] = [:]

    /// The aggregate's index, adding it (or widening the scopes of an identical one).
    mutating func intern(_ aggregate: Aggregate) -> Int {
        var key = aggregate
        key.scopeMask = 0
        let text = String(describing: key)
        if let existing = index[text] {
            aggregates[existing].scopeMask |= aggregate.scopeMask
            return existing
        }
        aggregates.append(aggregate)
        index[text] = aggregates.count - 1
        return aggregates.count - 1
    }

    mutating func formula(_ value: JSONValue, scopes: Set<ScopeKind>) throws(CatalogIssue) -> Formula {
        if value["ratio"] != nil {
            let object = try CatalogObject(value, "formula", allowed: ["ratio", "factor"])
            let ratio = try CatalogObject(try object.required("ratio"), "formula.ratio", allowed: ["numerator", "denominator"])
            let factor = try object.optionalNumber("factor") ?? 1
            guard factor > 0 else { throw CatalogIssue("formula.factor must be above 0") }
            let numerator = try aggregate(try ratio.required("numerator"), "formula.ratio.numerator", scopes: scopes)
            let denominator = try aggregate(try ratio.required("denominator"), "formula.ratio.denominator", scopes: scopes)
            if case .online = aggregates[denominator].kind {
                throw CatalogIssue("formula.ratio.denominator cannot be an online aggregate")
            }
            return .ratio(numerator: numerator, denominator: denominator, factor: factor)
        }
        return .aggregate(try aggregate(value, "formula", scopes: scopes))
    }

    mutating func aggregate(_ value: JSONValue, _ what: String, scopes: Set<ScopeKind>) throws(CatalogIssue) -> Int {
        let kinds = ["sum", "value", "count", "online"]
        guard case .object(let object) = value, object.count == 1, let name = object.keys.first, kinds.contains(name),
            let body = object[name]
        else {
            throw CatalogIssue(
                "\(what) must be {\"ratio\": ...} or an object with exactly one of \(kinds.joined(separator: ", "))"
                    + (value.objectValue.map { ", got members " + $0.keys.joined(separator: ", ") } ?? ""))
        }
        let path = what + "." + name
        let mask = scopes.reduce(UInt8(0)) { $0 | $1.bit }
        switch name {
        case "sum", "value":
            let allowed = name == "sum" ? ["feed", "field", "fields", "where", "where_item"] : ["feed", "field", "where"]
            let spec = try CatalogObject(body, path, allowed: allowed)
            let feed = try self.feed(spec, path, scopes: scopes)
            var texts: [String]
            if spec.has("fields") {
                guard !spec.has("field") else { throw CatalogIssue("\(path) has both \"field\" and \"fields\"; keep one") }
                texts = try spec.strings("fields")
                guard !texts.isEmpty else { throw CatalogIssue("\(path).fields must list at least one field") }
            } else {
                texts = [try spec.string("field")]
            }
            var fields: [FieldPath] = []
            var items: String?
            for (offset, text) in texts.enumerated() {
                let (field, array) = try FieldResolver.numberField(text, of: feed)
                if offset > 0, array != items {
                    throw CatalogIssue("\(path): all fields must come from the same item array (or none)")
                }
                items = array
                fields.append(field)
            }
            let conditions = try ConditionCompiler(resolver: try FieldResolver(feed: feed))
                .conditions(try spec.optionalArray("where"), path + ".where")
            let itemConditions = try itemConditions(spec, feed: feed, items: items, path)
            return intern(
                Aggregate(
                    feed: feed, kind: .sum(fields: fields, items: items), conditions: conditions,
                    itemConditions: itemConditions, match: [], scopeMask: mask))
        case "count":
            let spec = try CatalogObject(
                body, path, allowed: ["feed", "items", "where", "where_item", "match", "joined", "having"])
            if spec.has("joined") || spec.has("having") { return try units(spec, path, scopes: scopes) }
            let feed = try self.feed(spec, path, scopes: scopes)
            let items = try spec.optionalString("items")
            if let items { _ = try FieldResolver(feed: feed, items: items) }
            let compiler = ConditionCompiler(resolver: try FieldResolver(feed: feed))
            let conditions = try compiler.conditions(try spec.optionalArray("where"), path + ".where")
            let match = try compiler.conditions(try spec.optionalArray("match"), path + ".match")
            let itemConditions = try itemConditions(spec, feed: feed, items: items, path)
            return intern(
                Aggregate(
                    feed: feed, kind: .count(items: items), conditions: conditions, itemConditions: itemConditions,
                    match: match, scopeMask: mask))
        default:
            let spec = try CatalogObject(body, path, allowed: ["feed", "devices", "heartbeat", "offline_after", "where"])
            let feed = try self.feed(spec, path, scopes: scopes)
            let devices = try spec.string("devices")
            guard FeedFields.schema(feed).fields[devices] == .identifiers else {
                throw CatalogIssue("\(path).devices must name an array of device ids of \(feed.rawValue), got \"\(devices)\"")
            }
            let heartbeat = try spec.string("heartbeat")
            guard heartbeat == FeedType.safetyHeartbeat.rawValue else {
                throw CatalogIssue("\(path).heartbeat must be safety.heartbeat, got \"\(heartbeat)\"")
            }
            let seconds = try spec.optionalNumber("offline_after") ?? 180
            guard seconds > 0, seconds.rounded() == seconds, seconds < 1e9 else {
                throw CatalogIssue("\(path).offline_after must be a whole number of seconds above 0")
            }
            let conditions = try ConditionCompiler(resolver: try FieldResolver(feed: feed))
                .conditions(try spec.optionalArray("where"), path + ".where")
            return intern(
                Aggregate(
                    feed: feed, kind: .online(devicesField: devices, offlineAfterMillis: Int64(seconds) * 1000),
                    conditions: conditions, itemConditions: [], match: [], scopeMask: mask))
        }
    }

    /// `count` with `joined` (registered institutions having a matching record of another feed)
    /// or `having` (registered towns having a matching record).
    private mutating func units(_ spec: CatalogObject, _ path: String, scopes: Set<ScopeKind>) throws(CatalogIssue) -> Int {
        for member in ["items", "where_item", "match"] where spec.has(member) {
            throw CatalogIssue("\(path): \"\(member)\" cannot be combined with \"joined\" or \"having\"")
        }
        guard !(spec.has("joined") && spec.has("having")) else {
            throw CatalogIssue("\(path) has both \"joined\" and \"having\"; keep one")
        }
        let isJoin = spec.has("joined")
        let member = isJoin ? "joined" : "having"
        let base = try self.feed(spec, path, scopes: scopes)
        let expectedBase: FeedType = isJoin ? .registryInstitution : .registryTown
        guard base == expectedBase else {
            throw CatalogIssue("\(path): \"\(member)\" counts \(expectedBase.rawValue) records; feed is \(base.rawValue)")
        }
        let inner = try CatalogObject(try spec.required(member), path + "." + member, allowed: ["feed", "where"])
        let innerFeed = try self.feed(inner, path + "." + member, scopes: [])
        let binding = FeedFields.schema(innerFeed).binding
        if isJoin {
            guard binding == .institution, innerFeed != .registryInstitution else {
                throw CatalogIssue("\(path).joined.feed must be a feed of institutions other than the registry, got \(innerFeed.rawValue)")
            }
        } else {
            guard binding != .city, innerFeed != .registryTown else {
                throw CatalogIssue("\(path).having.feed must be a feed of institutions or towns, got \(innerFeed.rawValue)")
            }
        }
        let innerConditions = try ConditionCompiler(resolver: try FieldResolver(feed: innerFeed))
            .conditions(try inner.optionalArray("where"), path + "." + member + ".where")
        let having = intern(
            Aggregate(
                feed: innerFeed, kind: .count(items: nil), conditions: innerConditions, itemConditions: [], match: [],
                scopeMask: isJoin ? ScopeKind.institution.bit : ScopeKind.town.bit))
        let conditions = try ConditionCompiler(resolver: try FieldResolver(feed: base))
            .conditions(try spec.optionalArray("where"), path + ".where")
        return intern(
            Aggregate(
                feed: base, kind: .units(having: having, joinFeed: innerFeed), conditions: conditions, itemConditions: [],
                match: [], scopeMask: scopes.reduce(UInt8(0)) { $0 | $1.bit }))
    }

    private func itemConditions(_ spec: CatalogObject, feed: FeedType, items: String?, _ path: String)
        throws(CatalogIssue) -> [Condition]
    {
        let values = try spec.optionalArray("where_item")
        guard !values.isEmpty else { return [] }
        guard let items else {
            throw CatalogIssue("\(path).where_item needs items to look at (\"items\", or a field like \"classes[].children\")")
        }
        return try ConditionCompiler(resolver: try FieldResolver(feed: feed, items: items))
            .conditions(values, path + ".where_item")
    }

    /// The feed named by `spec.feed`, checked against the indicator's scopes.
    private func feed(_ spec: CatalogObject, _ path: String, scopes: Set<ScopeKind>) throws(CatalogIssue) -> FeedType {
        let name = try spec.string("feed")
        guard let feed = FeedType(rawValue: name) else {
            throw CatalogIssue(
                "\(path).feed: unknown feed type \"\(name)\"; use one of "
                    + FeedType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if feed == .safetyHeartbeat {
            throw CatalogIssue("\(path).feed: safety.heartbeat is read only through an \"online\" aggregate")
        }
        let binding = FeedFields.schema(feed).binding
        if scopes.contains(.town), binding == .city {
            throw CatalogIssue("scope \"town\" is not possible: \(feed.rawValue) records are city-wide (\(path))")
        }
        if scopes.contains(.institution), binding != .institution {
            throw CatalogIssue("scope \"institution\" is not possible: \(feed.rawValue) records are not per institution (\(path))")
        }
        return feed
    }
}
