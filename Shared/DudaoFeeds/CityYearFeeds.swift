import DudaoCore

/// The city-wide, year-keyed feeds: `finance.year`, `survey.recognition`, `talent.year`.
extension FeedValidator {
    static let financeYearFields = [
        "year", "preschool_fiscal_wan", "education_fiscal_wan", "public_kg_per_pupil_yuan",
        "inclusive_private_subsidy_yuan", "as_of",
    ]
    static let surveyRecognitionFields = ["year", "respondents", "satisfied", "as_of"]
    static let talentYearFields = ["year", "county_famous_teachers", "city_excellent_teachers", "studios", "as_of"]
    static let studioFields = ["provincial", "city", "county"]

    static func financeYear(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .financeYear, fields: financeYearFields)
        let year = try reader.year()
        _ = try reader.money("preschool_fiscal_wan")
        _ = try reader.money("education_fiscal_wan")
        _ = try reader.money("public_kg_per_pupil_yuan")
        _ = try reader.money("inclusive_private_subsidy_yuan")
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(type: .financeYear, key: String(year), asOf: asOf, body: body)
    }

    static func surveyRecognition(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .surveyRecognition, fields: surveyRecognitionFields)
        let year = try reader.year()
        let respondents = try reader.count("respondents")
        let satisfied = try reader.count("satisfied")
        try reader.requireNotAbove("satisfied", satisfied, "respondents", respondents)
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(type: .surveyRecognition, key: String(year), asOf: asOf, body: body)
    }

    static func talentYear(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .talentYear, fields: talentYearFields)
        let year = try reader.year()
        _ = try reader.count("county_famous_teachers")
        _ = try reader.count("city_excellent_teachers")
        let studios = try reader.object("studios", allowed: studioFields)
        for field in studioFields { _ = try studios.count(field) }
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(type: .talentYear, key: String(year), asOf: asOf, body: body)
    }
}
