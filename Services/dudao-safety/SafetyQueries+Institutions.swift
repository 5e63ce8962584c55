import DudaoCore
import DudaoFeeds

extension SafetyQueries {
    /// `safety.institutions` (`scope`, `level`: `kindergarten` by default, or `all`): every
    /// registered institution in scope, compliant or not, with what its last inventory said and
    /// its device counts — the drill-down from a town to one kindergarten.
    static func institutions(_ state: SafetyState, scope: SafetyScope, body: JSONObject, online: OnlineWindow) -> Result<JSONValue, WireError> {
        let levelText = body["level"]?.stringValue ?? InstitutionLevel.kindergarten.rawValue
        let level = InstitutionLevel(rawValue: levelText)
        guard level != nil || levelText == "all" else {
            let names = InstitutionLevel.allCases.map(\.rawValue) + ["all"]
            return .failure(WireError(.invalidField, "body.level must be one of \(names.joined(separator: ", "))", path: "body.level"))
        }
        var rows: [(town: String, id: String, value: JSONValue)] = []
        for (id, entry) in ComplianceRates.institutions(state, online: online) where scope.contains(id, entry.institution) {
            guard let institution = entry.institution else { continue }
            if let level, institution.level != level { continue }
            let place = state.place(ofInstitution: id)
            let reasons = entry.reasons
            let inventory: JSONValue =
                entry.inventory.map { inventory in
                    [
                        "as_of": .string(Timestamp(millis: inventory.asOf).description),
                        "alarm_devices": .array(inventory.alarmDevices.map { .string($0) }),
                        "cctv_police_linked": .bool(inventory.cctvPoliceLinked), "cameras": .int(inventory.cameras),
                        "cameras_linked": .int(inventory.camerasLinked), "closed_management": .bool(inventory.closedManagement),
                        "guards_required": .int(inventory.guardsRequired), "guards_full_time": .int(inventory.guardsFullTime),
                    ]
                } ?? .null
            let row: JSONValue = [
                "institution_id": .string(id), "name": .string(institution.name), "level": .string(institution.level.rawValue),
                "town_id": .string(institution.townID), "town_name": .string(place.townName),
                "compliant": .bool(reasons.isEmpty), "unreported": .bool(entry.inventory == nil),
                "reasons": .array(reasons.map { ["code": .string($0.code), "text": .string($0.text)] }),
                "inventory": inventory,
                "devices": [
                    "heard": .int(Int64(entry.devices)), "alarm": .int(Int64(entry.alarmDevices)),
                    "alarm_online": .int(Int64(entry.alarmsOnline)), "offline": .int(Int64(entry.offline)),
                    "fault": .int(Int64(entry.fault)), "never_seen": .int(Int64(entry.neverSeen)),
                ],
            ]
            rows.append((institution.townID, id, row))
        }
        rows.sort { ($0.town, $0.id) < ($1.town, $1.id) }
        let compliant = rows.filter { $0.value["compliant"] == true }.count
        return .success([
            "scope": .string(scope.description), "level": .string(levelText), "count": .int(Int64(rows.count)),
            "compliant": .int(Int64(compliant)), "institutions": .array(rows.map(\.value)),
        ])
    }
}
