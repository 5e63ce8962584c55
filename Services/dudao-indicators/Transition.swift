import DudaoCore
import DudaoEvaluation

/// Turns a status change into the alert event `dudao-notify` receives.
///
/// - `not_met` (from anything else): `indicator.not_met`, firing; `critical` for safety
///   indicators, `warning` otherwise.
/// - `at_risk` (from anything else): `indicator.at_risk`, firing, `info`.
/// - `met` after `not_met`/`at_risk`: `indicator.recovered`, resolved.
/// - `no_data`/`tracked`: no event.
///
/// The id is deterministic — indicator, year, scope, the new status and the log position that
/// caused it — and the event is queued in the same transaction as the status: a restart or a
/// redelivered record never raises the same transition twice.
enum Transition {
    static func event(
        from old: IndicatorStatus, result: IndicatorResult, key: StatusKey, scope: Scope, names: PlaceNames, cause: Int64, at: Timestamp
    ) -> AlertEvent? {
        let type: AlertEventType
        let severity: AlertSeverity
        let status: AlertStatus
        switch result.status {
        case .notMet:
            type = .indicatorNotMet
            severity = result.id.hasPrefix("safety.") ? .critical : .warning
            status = .firing
        case .atRisk:
            type = .indicatorAtRisk
            severity = .info
            status = .firing
        case .met where old == .notMet || old == .atRisk:
            type = .indicatorRecovered
            severity = .info
            status = .resolved
        default:
            return nil
        }
        let place = names.name(of: scope)
        let json = result.json
        var details: JSONObject = [
            "year": .int(Int64(key.year)), "previous_status": .string(old.rawValue), "indicator_name": .string(result.nameZh),
            "name_en": .string(result.nameEn), "value": json["value"] ?? .null, "unit": .string(Format.unit(result.unit)),
            "op": json["op"] ?? .null, "target": json["target"] ?? .null, "numerator": json["numerator"] ?? .null,
            "denominator": json["denominator"] ?? .null, "clause": .string(result.clause),
            "departments": .array(result.departments.map { .string($0) }),
        ]
        if let town = names.town(of: scope) { details["town_name"] = .string(names.towns[town] ?? town) }
        if case .institution(let id) = scope { details["institution_name"] = .string(names.institutions[id]?.name ?? id) }
        return AlertEvent(
            type: type, id: "ind:\(result.id):\(key.year):\(key.scope):\(result.status.rawValue):\(cause)", severity: severity,
            alertKey: "indicator:\(result.id):\(key.year):\(key.scope)", status: status, scope: key.scope,
            townID: names.town(of: scope), institutionID: { if case .institution(let id) = scope { return id } else { return nil } }(),
            indicator: result.id, summary: summary(result, place: place, year: key.year), details: details, at: at)
    }

    /// `东成镇 2025年 学前三年毛入园率 98.6%，未达标（目标 ≥100%），条款 三(一)1(1)`
    static func summary(_ result: IndicatorResult, place: String, year: Int) -> String {
        let verdict: String
        switch result.status {
        case .notMet: verdict = "未达标"
        case .atRisk: verdict = "接近目标线"
        case .met: verdict = "已恢复达标"
        case .noData: verdict = "无数据"
        case .tracked: verdict = "跟踪"
        }
        let value = result.value.map { Format.number($0) + Format.unit(result.unit) } ?? "无数据"
        let target = result.target.map { "（目标 \(Format.op(result.op))\(Format.number($0))\(Format.unit(result.unit))）" } ?? ""
        return "\(place) \(year)年 \(result.nameZh) \(value)，\(verdict)\(target)，条款 \(result.clause)"
    }
}

/// Numbers for people: one decimal for rates, none for whole numbers.
enum Format {
    static func number(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e12 { return String(Int64(value)) }
        let scaled = (value * 100).rounded() / 100
        return String(scaled)
    }

    static func unit(_ unit: String) -> String { unit == "ratio" ? "" : unit }

    static func op(_ op: String?) -> String {
        switch op {
        case ">=": "≥"
        case "<=": "≤"
        default: ""
        }
    }
}
