import DudaoCore
import DudaoEvaluation
import DudaoFeeds

extension IndicatorsModel {
    /// The places still to open by the end of `year`: kindergarten projects not done whose due
    /// date is in `year` or before, each counting `seats_planned - seats_delivered` (the new
    /// places are public, as the plan's kindergarten projects are).
    static func pendingSeats(_ projects: [ProjectProgress], by year: Int) -> (seats: Int64, projects: [ProjectProgress]) {
        let pending = projects.filter { $0.kind == .kindergarten && $0.status != .done && $0.due <= "\(year)-12-31" }
        return (pending.reduce(0) { $0 + max(0, $1.seatsPlanned - $1.seatsDelivered) }, pending)
    }

    /// Whole numbers as integers, as indicator values are written; nil as null.
    static func number(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return value.rounded() == value && abs(value) < 9e15 ? .int(Int64(value)) : .double(value)
    }

    /// Every project, decoded.
    var projects: [ProjectProgress] {
        engine.bodies(of: .projectProgress).compactMap {
            if case .projectProgress(let project) = try? FeedValidator.decode(.projectProgress, $0) { return project }
            return nil
        }.sorted { $0.projectID < $1.projectID }
    }

    /// Projects past their due date and not done at `now` (dates compared as Beijing's calendar).
    func projectsBehind(at now: Timestamp) -> [ProjectProgress] {
        let today = String(LocalTime(offsetMinutes: 480).format(now).prefix(10))
        return projects.filter { $0.status != .done && $0.due < today }
    }

    /// `indicators.forecast`: the enrolment indicators of `year` (every catalog's that declares a
    /// `forecast`) from the city's figures of `year - 1`, if the kindergarten places being built
    /// open as due, and if none of them does; with the projects behind schedule.
    func forecast(year: Int, now: Timestamp) -> JSONValue {
        let base = year - 1
        let all = projects
        let (seats, pending) = Self.pendingSeats(all, by: year)
        // The forecast year's resident children, when its cohorts are in.
        var cohort: Double?
        for indicator in engine.catalog.indicators where indicator.forecast?.cohort == true {
            if let result = engine.evaluate(indicator: indicator.id, year: year, scope: .city, now: now), let d = result.denominator {
                cohort = d
                break
            }
        }
        var rows: [JSONValue] = []
        for indicator in engine.catalog.indicators where indicator.forecast != nil {
            guard let now0 = engine.evaluate(indicator: indicator.id, year: base, scope: .city, now: now) else { continue }
            var row: JSONObject = [
                "id": .string(indicator.id), "catalog": .string(indicator.catalog), "name_zh": .string(indicator.nameZh),
                "unit": .string(indicator.unit), "op": indicator.op.map(JSONValue.string) ?? .null,
                "base_value": now0.json["value"] ?? .null, "base_status": .string(now0.status.rawValue),
            ]
            if let onTime = engine.project(now0, seats: Double(seats), cohort: cohort, year: year) {
                row["target"] = Self.number(onTime.target)
                row["projected"] = Self.number(onTime.value)
                row["projected_status"] = .string(onTime.status.rawValue)
                row["projected_numerator"] = Self.number(onTime.numerator)
                row["projected_denominator"] = Self.number(onTime.denominator)
            }
            if let none = engine.project(now0, seats: 0, cohort: cohort, year: year) {
                row["without_projects"] = Self.number(none.value)
                row["without_projects_status"] = .string(none.status.rawValue)
            }
            rows.append(.object(row))
        }
        func project(_ p: ProjectProgress) -> JSONValue {
            [
                "project_id": .string(p.projectID), "name": .string(p.name), "kind": .string(p.kind.rawValue),
                "due": .string(p.due), "status": .string(p.status.rawValue), "seats_planned": .int(p.seatsPlanned),
                "seats_delivered": .int(p.seatsDelivered),
            ]
        }
        return [
            "year": .int(Int64(year)), "base_year": .int(Int64(base)), "cohort": Self.number(cohort),
            "seats_pending": .int(seats), "projects_pending": .array(pending.map(project)),
            "projects_behind": .array(projectsBehind(at: now).map(project)), "indicators": .array(rows),
        ]
    }
}
