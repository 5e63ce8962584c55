import DudaoCore
import DudaoFeeds
import DudaoStorage

/// The queries `dudao-safety` answers (SPEC section 4 names `safety.rates`; the rest are this
/// service's own), each a function of the engine's state.
enum SafetyQueries {
    static let types = [
        "safety.rates", "safety.overview", "safety.noncompliant", "safety.institutions", "safety.devices", "safety.alarms", "safety.status",
        "safety.outbox",
    ]

    /// The result body of query `type`, or why it is refused.
    static func answer(type: String, body: JSONObject, engine: SafetyEngine) -> Result<JSONValue, WireError> {
        let online = engine.onlineWindow
        let now = Timestamp(millis: online.nowMillis)
        switch type {
        case "safety.status":
            return status(engine: engine, now: now)
        case "safety.outbox":
            let limit = Int(body["limit"]?.intValue ?? 100)
            return outbox(engine: engine, limit: max(0, min(limit, 10_000)))
        default:
            return engine.read { state in
                let scope: SafetyScope
                switch SafetyScope.parse(body, registry: state.registry) {
                case .success(let parsed): scope = parsed
                case .failure(let error): return .failure(error)
                }
                switch type {
                case "safety.rates":
                    let figures = ComplianceRates.figures(state, scopes: [scope], online: online)[scope]!
                    return .success(.object(ratesBody(scope: scope, figures: figures, now: now)))
                case "safety.overview":
                    return .success(overview(state, online: online))
                case "safety.noncompliant":
                    return .success(noncompliant(state, scope: scope, online: online))
                case "safety.institutions":
                    return institutions(state, scope: scope, body: body, online: online)
                case "safety.devices":
                    return devices(state, scope: scope, body: body)
                case "safety.alarms":
                    return .success(alarms(state, scope: scope))
                default:
                    return .failure(WireError(.unknownType, "\"\(type)\" is not a query of dudao-safety", path: "type"))
                }
            }
        }
    }

    // MARK: rates

    static func rateJSON(id: String, name: String, tally: RateTally, tracked: Bool) -> JSONValue {
        let status: IndicatorStatus
        if let value = tally.value {
            // Judged as dudao-indicators judges the same indicators (target 100 %, no at-risk margin).
            status = tracked ? .tracked : IndicatorStatus.judge(value, op: ">=", target: 100, margin: 0)
        } else {
            status = .noData
        }
        return [
            "id": .string(id), "name_zh": .string(name), "value": tally.value.map { .double($0) } ?? .null, "unit": "%",
            "op": tracked ? .null : ">=", "target": tracked ? .null : 100, "status": .string(status.rawValue),
            "numerator": .int(Int64(tally.numerator)), "denominator": .int(Int64(tally.denominator)),
        ]
    }

    static func rates(_ tally: ComplianceTally) -> JSONValue {
        var list = ComplianceRule.allCases.map { rateJSON(id: $0.indicatorID, name: $0.nameZh, tally: tally[$0], tracked: false) }
        list.append(rateJSON(id: "safety.alarm_online_rate", name: "一键报警在线率", tally: tally.alarmsOnline, tracked: true))
        return .array(list)
    }

    static func ratesBody(scope: SafetyScope, figures: ScopeFigures, now: Timestamp) -> JSONObject {
        var byLevel = JSONObject()
        for level in InstitutionLevel.allCases {
            guard let tally = figures.byLevel[level] else { continue }
            byLevel[level.rawValue] = ["institutions": .int(Int64(tally.institutions)), "rates": rates(tally)]
        }
        let kindergartens = figures.kindergartens
        return [
            "scope": .string(scope.description), "as_of": .string(now.description), "rates": rates(kindergartens),
            "kindergartens": .int(Int64(kindergartens.institutions)),
            "unreported": .array(kindergartens.unreported.map { .string($0) }),
            "alarm_devices": .int(Int64(kindergartens.alarmsOnline.denominator)),
            "alarms_online": .int(Int64(kindergartens.alarmsOnline.numerator)),
            "devices": .int(Int64(figures.devices)), "devices_offline": .int(Int64(figures.devicesOffline)),
            "devices_fault": .int(Int64(figures.devicesFault)), "devices_never_seen": .int(Int64(figures.devicesNeverSeen)),
            "open_alarms": .int(Int64(figures.openAlarms)), "by_level": .object(byLevel),
        ]
    }

    /// The city and every town in one pass (what `dudao safety` shows).
    static func overview(_ state: SafetyState, online: OnlineWindow) -> JSONValue {
        let now = Timestamp(millis: online.nowMillis)
        let towns = state.registry.towns.values.sorted { $0.id < $1.id }
        let scopes = [SafetyScope.city] + towns.map { SafetyScope.town($0.id) }
        let figures = ComplianceRates.figures(state, scopes: scopes, online: online)
        let rows: [JSONValue] = towns.map { town in
            var body = ratesBody(scope: .town(town.id), figures: figures[.town(town.id)]!, now: now)
            body["town_id"] = .string(town.id)
            body["name"] = .string(town.name)
            body["kind"] = .string(town.kind.rawValue)
            return .object(body)
        }
        return ["as_of": .string(now.description), "city": .object(ratesBody(scope: .city, figures: figures[.city]!, now: now)), "towns": .array(rows)]
    }

    // MARK: lists

    static func noncompliant(_ state: SafetyState, scope: SafetyScope, online: OnlineWindow) -> JSONValue {
        let all = ComplianceRates.institutions(state, online: online)
        var list: [(town: String, id: String, value: JSONValue)] = []
        for (id, entry) in all where scope.contains(id, entry.institution) {
            guard let institution = entry.institution else { continue }
            // Unreported counts only for kindergartens (the clause's subject); other levels are judged when they report.
            if entry.inventory == nil, institution.level != .kindergarten { continue }
            let reasons = entry.reasons
            guard !reasons.isEmpty else { continue }
            let place = state.place(ofInstitution: id)
            list.append(
                (
                    institution.townID, id,
                    [
                        "institution_id": .string(id), "name": .string(institution.name), "level": .string(institution.level.rawValue),
                        "town_id": .string(institution.townID), "town_name": .string(place.townName),
                        "unreported": .bool(entry.inventory == nil),
                        "reasons": .array(reasons.map { ["code": .string($0.code), "text": .string($0.text)] }),
                    ]
                ))
        }
        list.sort { ($0.town, $0.id) < ($1.town, $1.id) }
        return ["scope": .string(scope.description), "count": .int(Int64(list.count)), "institutions": .array(list.map(\.value))]
    }

    static let deviceFilters = ["problem", "offline", "fault", "never_seen", "online", "retired", "all"]

    static func devices(_ state: SafetyState, scope: SafetyScope, body: JSONObject) -> Result<JSONValue, WireError> {
        let filter = body["state"]?.stringValue ?? "problem"
        guard deviceFilters.contains(filter) else {
            return .failure(
                WireError(.invalidField, "body.state must be one of \(deviceFilters.joined(separator: ", "))", path: "body.state"))
        }
        let limit = Int(max(0, min(body["limit"]?.intValue ?? 1000, 100_000)))
        func wanted(_ s: DeviceState) -> Bool {
            switch filter {
            case "problem": s == .offline || s == .fault
            case "all": true
            default: s.wire == filter
            }
        }
        // Which interned institutions are in scope.
        let inScope = state.institutions.ids.map { scope.contains($0, state.registry.institutions[$0]) }
        var count = 0
        var rows: [(String, String, String, JSONValue)] = []
        if filter != "never_seen" {
            for (i, record) in state.devices.records.enumerated() where inScope[Int(record.institution)] && wanted(record.state) {
                count += 1
                guard rows.count < limit else { continue }
                let place = state.place(ofInstitution: record.institution)
                let id = state.devices.ids[i]
                var row: JSONObject = [
                    "device_id": .string(id), "kind": .string(record.kind.rawValue), "state": .string(record.state.wire),
                    "institution_id": .string(place.institutionID), "institution_name": .string(place.institutionName),
                    "town_id": place.townID.map { .string($0) } ?? .null, "town_name": .string(place.townName),
                    "last_seen": .string(Timestamp(millis: record.lastSeen).description),
                    "last_heartbeat_at": .string(Timestamp(millis: record.lastAt).description),
                    "since": .string(Timestamp(millis: record.since).description),
                ]
                if let alerting = record.alerting.wire { row["alerting"] = .string(alerting) }
                rows.append((place.townID ?? "", place.institutionID, id, .object(row)))
            }
        }
        if filter == "problem" || filter == "never_seen" || filter == "all" {
            for (institutionID, inventory) in state.inventories.sorted(by: { $0.key < $1.key }) {
                let institution = state.registry.institutions[institutionID]
                guard scope.contains(institutionID, institution) else { continue }
                for deviceID in inventory.alarmDevices where state.devices.find(deviceID) == nil {
                    count += 1
                    guard rows.count < limit else { continue }
                    let place = state.place(ofInstitution: institutionID)
                    rows.append(
                        (
                            place.townID ?? "", institutionID, deviceID,
                            [
                                "device_id": .string(deviceID), "kind": "alarm", "state": "never_seen",
                                "institution_id": .string(institutionID), "institution_name": .string(place.institutionName),
                                "town_id": place.townID.map { .string($0) } ?? .null, "town_name": .string(place.townName),
                            ]
                        ))
                }
            }
        }
        rows.sort { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
        return .success([
            "scope": .string(scope.description), "state": .string(filter), "count": .int(Int64(count)),
            "devices": .array(rows.map(\.3)),
        ])
    }

    static func alarms(_ state: SafetyState, scope: SafetyScope) -> JSONValue {
        var open: [JSONValue] = []
        for alarm in state.openAlarms.reversed() {
            guard scope.contains(alarm.institutionID, state.registry.institutions[alarm.institutionID]) else { continue }
            let place = state.place(ofInstitution: alarm.institutionID)
            var row: JSONObject = [
                "alarm_id": .string(alarm.id), "device_id": .string(alarm.deviceID), "institution_id": .string(alarm.institutionID),
                "institution_name": .string(place.institutionName), "town_id": place.townID.map { .string($0) } ?? .null,
                "town_name": .string(place.townName), "at": .string(Timestamp(millis: alarm.at).description),
                "received_at": .string(Timestamp(millis: alarm.receivedAt).description),
            ]
            if let note = alarm.note { row["note"] = .string(note) }
            open.append(.object(row))
        }
        return ["scope": .string(scope.description), "count": .int(Int64(open.count)), "open": .array(open)]
    }

    // MARK: service

    static func status(engine: SafetyEngine, now: Timestamp) -> Result<JSONValue, WireError> {
        let pending: Int
        do {
            pending = try engine.database.read { db in try Outbox.count(db) }
        } catch {
            return .failure(WireError(.internal, "reading the outbox failed: \(error)"))
        }
        var body: JSONObject = engine.read { state in
            var counts = [0, 0, 0, 0]
            for record in state.devices.records { counts[Int(record.state.rawValue)] += 1 }
            return [
                "position": .int(state.position), "devices": .int(Int64(state.devices.count)),
                "online": .int(Int64(counts[0])), "offline": .int(Int64(counts[1])), "fault": .int(Int64(counts[2])),
                "retired": .int(Int64(counts[3])),
                "open_alarms": .int(Int64(state.openAlarms.count)), "institutions_down": .int(Int64(state.institutionsDown.count)),
                "towns": .int(Int64(state.registry.towns.count)),
                "institutions": .int(Int64(state.registry.institutions.count)), "inventories": .int(Int64(state.inventories.count)),
            ]
        }
        let settings = engine.settings
        body["outbox_pending"] = .int(Int64(pending))
        body["held_back"] = engine.holdReason(now: now.millis).map { .string($0) } ?? .null
        body["started_at"] = .string(engine.startedAt.description)
        body["now"] = .string(now.description)
        body["offline_after_seconds"] = .double(Double(settings.liveness.offlineAfterMillis) / 1000)
        body["hold_down_seconds"] = .double(Double(settings.liveness.holdDownMillis) / 1000)
        body["resident_bytes"] = .int(Int64(ProcessMemory.residentBytes()))
        return .success(.object(body))
    }

    /// Frames queued for `dudao-notify` and not yet acknowledged by it, oldest first.
    static func outbox(engine: SafetyEngine, limit: Int) -> Result<JSONValue, WireError> {
        do {
            let (count, entries) = try engine.database.read { db in (try Outbox.count(db), try Outbox.pending(db, limit: limit)) }
            let frames: [JSONValue] = entries.map { (try? JSONParser.parse($0.frame)) ?? .string($0.frame) }
            return .success(["pending": .int(Int64(count)), "frames": .array(frames)])
        } catch {
            return .failure(WireError(.internal, "reading the outbox failed: \(error)"))
        }
    }
}
