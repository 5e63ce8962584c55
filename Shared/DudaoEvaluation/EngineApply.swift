import DudaoCore
import DudaoFeeds

extension IndicatorEngine {
    /// Stores `feed` as the current version of its (type, key) and brings every sum it feeds up to date.
    func ingest(_ feed: ValidatedFeed, receivedAt: Timestamp?) {
        let type = feed.type
        if case .safetyHeartbeat(let heartbeat) = feed.feed {
            self.heartbeat(heartbeat, receivedAt: receivedAt)
            return
        }
        let ordinal = type.ordinal
        guard storedFeeds[ordinal] else { return }
        let key = feed.key
        let old = stores[ordinal][key]
        if FeedFields.binding(type) == .institution, type != .registryInstitution {
            let oldInstitution = old?.institutionID
            let newInstitution = feed.feed.institutionID
            if old == nil || oldInstitution != newInstitution {
                let ref = RecordRef(feed: ordinal, key: key)
                if old != nil, let oldInstitution {
                    recordsByInstitution[oldInstitution]?.removeAll { $0 == ref }
                }
                if let newInstitution { recordsByInstitution[newInstitution, default: []].append(ref) }
            }
        }
        if yearlyFeeds[ordinal], let year = feed.feed.year, year > 0, year < 4096 {
            noteYear(Int32(year))
        }
        var followUps: [RecordRef] = []
        if case .registryInstitution(let registered) = feed.feed {
            let id = registered.institutionID
            let info = InstitutionInfo(
                id: id, town: registered.townID, level: registered.level.rawValue, ownership: registered.ownership.rawValue,
                townCentral: registered.townCentral, townScope: scopeTable.town(registered.townID), scope: scopeTable.institution(id))
            if institutions[id] != info {
                institutions[id] = info
                followUps = recordsByInstitution[id] ?? []
            }
        }
        let state: RecordState
        if let old {
            old.update(feed)
            state = old
        } else {
            state = RecordState(feed)
            stores[ordinal][key] = state
        }
        recompute(feed: ordinal, state: state)
        for ref in followUps { recompute(ref) }
        drainQueue()
    }

    func noteYear(_ year: Int32) {
        var low = 0, high = years.count
        while low < high {
            let mid = (low + high) / 2
            if years[mid] < year { low = mid + 1 } else { high = mid }
        }
        if low == years.count || years[low] != year { years.insert(year, at: low) }
    }

    func drainQueue() {
        while let ref = queue.popLast() { recompute(ref) }
    }

    /// The registered institution of a record of `type` (nil for records of towns or the city).
    @inline(__always) func institution(of type: FeedType, _ state: RecordState) -> InstitutionInfo? {
        guard FeedFields.binding(type) == .institution, let id = state.institutionID else { return nil }
        return institutions[id]
    }

    /// The scope ids a record counts in: city; its town; its institution. Empty while the
    /// record's institution is not registered.
    func scopes(of type: FeedType, _ state: RecordState, institution: InstitutionInfo?) -> [Int32] {
        switch FeedFields.binding(type) {
        case .city:
            return [ScopeTable.city]
        case .town:
            guard let town = state.townID else { return [] }
            return [ScopeTable.city, scopeTable.town(town)]
        case .institution:
            guard let institution else { return [] }
            return [ScopeTable.city, institution.townScope, institution.scope]
        }
    }

    /// Re-computes a stored record whose inputs (registry, joins) changed.
    func recompute(_ ref: RecordRef) {
        guard let state = stores[ref.feed][ref.key] else { return }
        recompute(feed: ref.feed, state: state)
    }

    /// Re-computes what one record contributes, moves the sums by the difference and stores
    /// `state` (whose body is current, whose entries are what the sums hold) with the new entries.
    func recompute(feed: Int, state: RecordState) {
        let type = feedTypes[feed]
        let institution = institution(of: type, state)
        let newScopes = scopes(of: type, state, institution: institution)
        var entries: [Entry] = []
        var listings: [DeviceListing] = []
        if !newScopes.isEmpty {
            contributions(
                type, state.body, institution: institution, unitScope: newScopes.last ?? ScopeTable.city,
                entries: &entries, listings: &listings)
        }
        if entries == state.entries, newScopes == state.scopes, listings == state.devices { return }
        sums.add(state.entries, scopes: state.scopes, sign: -1, masks: scopeMasks, kinds: scopeTable.kinds)
        sums.add(entries, scopes: newScopes, sign: 1, masks: scopeMasks, kinds: scopeTable.kinds)
        for listing in state.devices { list(listing, scopes: state.scopes, sign: -1) }
        for listing in listings { list(listing, scopes: newScopes, sign: 1) }
        enqueueDependents(old: state.entries, oldScopes: state.scopes, new: entries, newScopes: newScopes)
        state.scopes = newScopes
        state.entries = entries
        state.devices = listings
    }

    /// Adds or removes the devices a record lists for an `online` aggregate.
    func list(_ listing: DeviceListing, scopes: [Int32], sign: Int32) {
        let aggregate = Int(listing.aggregate)
        let mask = aggregates[aggregate].scopeMask
        for scope in scopes where mask & scopeTable.kinds[Int(scope)] != 0 {
            for device in listing.devices {
                online[aggregate]?.devicesByScope[scope, default: [:]][device, default: 0] += sign
                if online[aggregate]?.devicesByScope[scope]?[device] == 0 {
                    online[aggregate]?.devicesByScope[scope]?[device] = nil
                }
            }
            touchedOnline.insert(SumKey(aggregate: listing.aggregate, key: packKey(scope, 0)))
        }
    }

    /// Queues the base units (registered institutions or towns) whose join or "having" input
    /// changed in this re-computation.
    func enqueueDependents(old: [Entry], oldScopes: [Int32], new: [Entry], newScopes: [Int32]) {
        var deltas: [(aggregate: Int32, year: Int32, scope: Int32, delta: Int64)] = []
        func collect(_ entries: [Entry], _ scopes: [Int32], _ sign: Int64) {
            for entry in entries where hasDependents[Int(entry.aggregate)] {
                let kind = dependentUnitKind[Int(entry.aggregate)]
                for scope in scopes where scopeTable.kinds[Int(scope)] == kind {
                    let delta = sign &* entry.value
                    if let index = deltas.firstIndex(where: {
                        $0.aggregate == entry.aggregate && $0.year == entry.year && $0.scope == scope
                    }) {
                        deltas[index].delta &+= delta
                    } else {
                        deltas.append((entry.aggregate, entry.year, scope, delta))
                    }
                }
            }
        }
        collect(old, oldScopes, -1)
        collect(new, newScopes, 1)
        var queued: [Int32] = []
        for change in deltas where change.delta != 0 && !queued.contains(change.scope) {
            queued.append(change.scope)
            switch scopeTable.scopes[Int(change.scope)] {
            case .institution(let id):
                let feed = FeedType.registryInstitution.ordinal
                queue.append(RecordRef(feed: feed, key: id))
            case .town(let id):
                let feed = FeedType.registryTown.ordinal
                queue.append(RecordRef(feed: feed, key: id))
            case .city:
                break
            }
        }
    }

    /// Records a device's latest heartbeat; `receivedAt` (the ingest's receipt time) is its
    /// liveness clock, the device's `at` when unknown.
    func heartbeat(_ heartbeat: Heartbeat, receivedAt: Timestamp?) {
        guard !online.isEmpty else { return }
        let at = heartbeat.at
        let device = devices.id(heartbeat.deviceID)
        devices.lastAt[Int(device)] = at.millis
        devices.receivedAt[Int(device)] = max(devices.receivedAt[Int(device)], receivedAt?.millis ?? at.millis)
        devices.ok[Int(device)] = heartbeat.status == .ok
        devices.institution[Int(device)] = heartbeat.institutionID
        // The scopes of the institution the heartbeat names (where its inventory lists it).
        guard sums.tracking, let institution = institutions[heartbeat.institutionID] else { return }
        for aggregate in online.keys {
            for scope in [ScopeTable.city, institution.townScope, institution.scope] {
                touchedOnline.insert(SumKey(aggregate: Int32(aggregate), key: packKey(scope, 0)))
            }
        }
    }

    /// The (indicator, year, scope) keys whose inputs changed during the current apply.
    func affectedKeys() -> Set<AffectedKey> {
        // (indicator, year, scope) packed, deduplicated before any string is hashed
        var packed: [Int] = []
        func note(_ aggregate: Int, _ year: Int32, _ scope: Int32) {
            let kind = scopeTable.kinds[Int(scope)]
            for index in indicatorsByAggregate[aggregate] where indicatorScopeMasks[index] & kind != 0 {
                packed.append(index << 44 | Int(year) << 32 | Int(scope))
                if year != 0, indicatorHasPreviousYearTarget[index] {
                    packed.append(index << 44 | Int(year + 1) << 32 | Int(scope))
                }
            }
        }
        for touch in sums.touched {
            let now = sums.get(Int(touch.aggregate), slot: Int(touch.slot), scope: touch.scope)
            if now != touch.before { note(Int(touch.aggregate), sums.slotYears[Int(touch.slot)], touch.scope) }
        }
        for sumKey in touchedOnline { note(Int(sumKey.aggregate), 0, Int32(sumKey.key >> 12)) }
        packed.sort()
        var result = Set<AffectedKey>(minimumCapacity: packed.count)
        var previous = -1
        for key in packed where key != previous {
            previous = key
            let year = (key >> 32) & 0xFFF
            let indicator = key >> 44
            let scope = key & 0xFFFF_FFFF
            result.insert(
                AffectedKey(
                    indicator: catalog.indicators[indicator].id, year: year == 0 ? nil : year,
                    scope: scopeTable.scopes[scope], indicatorDigest: indicatorDigests[indicator],
                    scopeDigest: scopeTable.digests[scope]))
        }
        return result
    }
}
