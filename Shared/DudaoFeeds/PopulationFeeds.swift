import DudaoCore

/// `population.cohort`: resident children aged 3, 4 and 5 in one town, one year.
public struct PopulationCohort: Sendable, Equatable {
    public var townID: String
    public var year: Int64
    public var age3: Int64
    public var age4: Int64
    public var age5: Int64
    public var asOf: Timestamp?
}

extension FeedValidator {
    static let populationCohortFields = ["town_id", "year", "age_3", "age_4", "age_5", "as_of"]

    static func populationCohort(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .populationCohort, fields: populationCohortFields)
        return .populationCohort(
            PopulationCohort(
                townID: try reader.identifier("town_id"), year: try reader.year(), age3: try reader.count("age_3"),
                age4: try reader.count("age_4"), age5: try reader.count("age_5"), asOf: try reader.optionalTimestamp("as_of")))
    }
}
