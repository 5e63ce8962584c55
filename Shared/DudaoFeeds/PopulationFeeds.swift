import DudaoCore

/// `population.cohort`: resident children by age in one town.
extension FeedValidator {
    static let populationCohortFields = ["town_id", "year", "age_3", "age_4", "age_5", "as_of"]

    static func populationCohort(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .populationCohort, fields: populationCohortFields)
        let townID = try reader.identifier("town_id")
        let year = try reader.year()
        _ = try reader.count("age_3")
        _ = try reader.count("age_4")
        _ = try reader.count("age_5")
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(
            type: .populationCohort, key: key(townID, year), asOf: asOf, body: body,
            references: [.town(id: townID, path: "body.town_id")], townID: townID)
    }
}
