import DudaoCore

/// `project.progress`: one construction project's progress (seats in 个, money in 万元).
public struct ProjectProgress: Sendable, Equatable {
    public var projectID: String
    public var name: String
    public var kind: ProjectKind
    public var seatsPlanned: Int64
    public var seatsDelivered: Int64
    public var investmentPlannedWan: Double
    public var investedWan: Double
    /// The due date, `YYYY-MM-DD`.
    public var due: String
    public var status: ProjectStatus
    public var asOf: Timestamp?
}

extension FeedValidator {
    static let projectProgressFields = [
        "project_id", "name", "kind", "seats_planned", "seats_delivered", "investment_planned_wan",
        "invested_wan", "due", "status", "as_of",
    ]

    static func projectProgress(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .projectProgress, fields: projectProgressFields)
        return .projectProgress(
            ProjectProgress(
                projectID: try reader.identifier("project_id"), name: try reader.text("name", maxLength: maxNameLength),
                kind: try reader.choice("kind", ProjectKind.self), seatsPlanned: try reader.count("seats_planned"),
                seatsDelivered: try reader.count("seats_delivered"),
                investmentPlannedWan: try reader.money("investment_planned_wan"), investedWan: try reader.money("invested_wan"),
                due: try reader.date("due"), status: try reader.choice("status", ProjectStatus.self),
                asOf: try reader.optionalTimestamp("as_of")))
    }
}
