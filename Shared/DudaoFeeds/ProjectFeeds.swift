import DudaoCore

/// `project.progress`: one construction project.
extension FeedValidator {
    static let projectProgressFields = [
        "project_id", "name", "kind", "seats_planned", "seats_delivered", "investment_planned_wan",
        "invested_wan", "due", "status", "as_of",
    ]
    static let projectKinds = ["kindergarten", "primary", "junior"]
    static let projectStatuses = ["planned", "building", "done"]

    static func projectProgress(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .projectProgress, fields: projectProgressFields)
        let projectID = try reader.identifier("project_id")
        _ = try reader.text("name", maxLength: maxNameLength)
        _ = try reader.choice("kind", among: projectKinds)
        _ = try reader.count("seats_planned")
        _ = try reader.count("seats_delivered")
        _ = try reader.money("investment_planned_wan")
        _ = try reader.money("invested_wan")
        _ = try reader.date("due")
        _ = try reader.choice("status", among: projectStatuses)
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(type: .projectProgress, key: projectID, asOf: asOf, body: body)
    }
}
