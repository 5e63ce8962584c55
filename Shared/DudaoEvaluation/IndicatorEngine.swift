import DudaoCore
import DudaoFeeds

/// Evaluates every indicator of a ``Catalog`` per year and scope, incrementally.
///
/// Records are upserted with ``apply(type:key:body:)``. Each record's contribution to each
/// aggregate it feeds is remembered, so a new version subtracts the old contribution and adds
/// the new one: running sums per (aggregate, scope, year) stay exact (fixed point) and do not
/// depend on the order records arrive in. A registry change of an institution re-computes
/// only that institution's records; joins ("unreported counts as non-compliant") and town
/// counts re-compute only the institution or town whose inputs changed. Evaluation reads the
/// sums: O(number of indicators).
///
/// Not thread-safe: one owner (an actor or a single task) drives it.
public final class IndicatorEngine {
    /// The catalog evaluated.
    public let catalog: Catalog
    let aggregates: [Aggregate]
    /// Per feed ordinal: the aggregates computed from that feed's records.
    let programsByFeed: [[AggregateProgram]]
    /// Per aggregate: the scope-kind bits whose sums are kept.
    let scopeMasks: [UInt8]
    /// Per aggregate: the indicators that read it.
    let indicatorsByAggregate: [[Int]]
    /// Per indicator: the scope-kind bits it is evaluated at.
    let indicatorScopeMasks: [UInt8]
    /// Per indicator: ``AffectedKey/fnv(_:)`` of its id.
    let indicatorDigests: [UInt64]
    /// Per indicator: whether its target is the previous year's value.
    let indicatorHasPreviousYearTarget: [Bool]
    /// Per aggregate: whether a `units` aggregate depends on it (it is a join/having input).
    let hasDependents: [Bool]
    /// Per aggregate: the scope-kind bit its dependents' units live at (institution or town).
    let dependentUnitKind: [UInt8]
    /// Per feed ordinal: whether records of the feed are kept.
    let storedFeeds: [Bool]
    let feedTypes: [FeedType]
    let yearlyFeeds: [Bool]

    var stores: [[String: RecordState]]
    var institutions: [String: InstitutionInfo] = [:]
    var recordsByInstitution: [String: [RecordRef]] = [:]
    var scopeTable = ScopeTable()
    var sums: SumTable
    /// Years seen in any record, sorted.
    var years: [Int32] = []
    var devices = DeviceTable()
    var online: [Int: OnlineState] = [:]

    /// While ``apply(type:key:body:)`` runs: online sums touched (scope ids by aggregate).
    var touchedOnline: Set<SumKey> = []
    var queue: [RecordRef] = []

    /// An engine with no records.
    public init(catalog: Catalog) {
        self.catalog = catalog
        aggregates = catalog.aggregates
        feedTypes = FeedType.allCases.sorted { $0.ordinal < $1.ordinal }
        yearlyFeeds = feedTypes.map { FeedFields.schema($0).yearly }
        var byFeed = [[AggregateProgram]](repeating: [], count: FeedType.ordinalCount)
        var dependents = [Bool](repeating: false, count: catalog.aggregates.count)
        var unitKind = [UInt8](repeating: 0, count: catalog.aggregates.count)
        for (index, aggregate) in catalog.aggregates.enumerated() {
            byFeed[aggregate.feed.ordinal].append(AggregateProgram(id: index, aggregate))
            if case .units(let having, _) = aggregate.kind {
                dependents[having] = true
                unitKind[having] =
                    aggregate.feed == .registryInstitution ? ScopeKind.institution.bit : ScopeKind.town.bit
            }
            if case .online = aggregate.kind { online[index] = OnlineState() }
        }
        var readers = [[Int]](repeating: [], count: catalog.aggregates.count)
        for (index, indicator) in catalog.indicators.enumerated() {
            for aggregate in indicator.compiled.aggregates where !readers[aggregate].contains(index) {
                readers[aggregate].append(index)
            }
        }
        programsByFeed = byFeed
        scopeMasks = catalog.aggregates.map(\.scopeMask)
        indicatorsByAggregate = readers
        indicatorScopeMasks = catalog.indicators.map { $0.scopes.reduce(UInt8(0)) { $0 | $1.bit } }
        indicatorDigests = catalog.indicators.map { AffectedKey.fnv($0.id) }
        indicatorHasPreviousYearTarget = catalog.indicators.map { $0.target == .previousYear }
        hasDependents = dependents
        dependentUnitKind = unitKind
        storedFeeds = (0..<FeedType.ordinalCount).map {
            !byFeed[$0].isEmpty || $0 == FeedType.registryTown.ordinal || $0 == FeedType.registryInstitution.ordinal
        }
        stores = [[String: RecordState]](repeating: [:], count: FeedType.ordinalCount)
        sums = SumTable(aggregates: catalog.aggregates.count)
    }

    /// Registered town ids (from `registry.town` records), sorted.
    public var towns: [String] {
        stores[FeedType.registryTown.ordinal].keys.sorted()
    }

    /// Registered institutions with their town and level, by id.
    public var registeredInstitutions: [String: (town: String, level: String)] {
        institutions.mapValues { ($0.town, $0.level) }
    }

    /// Registered institution ids, sorted.
    public var institutionIDs: [String] {
        institutions.keys.sorted()
    }

    /// Upserts the current version of a record (the ingest already ordered versions; the
    /// latest wins), decoded by ``FeedValidator``. Returns which (indicator, year, scope) may
    /// have a new value; year nil = every year (records without `year`).
    /// `safety.alarm_online_rate`-style live values also change with time alone, which no apply
    /// reports. `receivedAt`: when the ingest received the record (a heartbeat's liveness clock,
    /// ``DeviceOnline``; its `at` when nil).
    @discardableResult
    public func apply(_ feed: ValidatedFeed, receivedAt: Timestamp? = nil) -> Set<AffectedKey> {
        applyBatch { apply in apply(feed, receivedAt) }
    }

    /// Applies the feeds `body` hands to `apply`, in order, and returns which (indicator, year,
    /// scope) may have a new value after all of them: what ``apply(_:receivedAt:)`` of each
    /// would return together, less the values a later feed of the batch put back as they were.
    /// A batch of heartbeats touches the same sums over and over: the keys are worked out once.
    public func applyBatch(_ body: (_ apply: (ValidatedFeed, Timestamp?) -> Void) throws -> Void) rethrows -> Set<AffectedKey> {
        sums.beginTracking()
        touchedOnline.removeAll(keepingCapacity: true)
        defer {
            sums.endTracking()
            touchedOnline.removeAll(keepingCapacity: true)
        }
        try body { feed, receivedAt in ingest(feed, receivedAt: receivedAt) }
        return affectedKeys()
    }

    /// Like ``apply(_:receivedAt:)`` without working out what changed: for replaying many
    /// stored records at start-up.
    public func load(_ feed: ValidatedFeed, receivedAt: Timestamp? = nil) {
        ingest(feed, receivedAt: receivedAt)
        touchedOnline.removeAll(keepingCapacity: true)
    }
}
