import DudaoCore

/// `compulsory.census`, `compulsory.retention` and `special.population`.
extension FeedValidator {
    static let compulsoryCensusFields = [
        "institution_id", "year", "students", "migrant_students", "classes", "as_of",
    ]
    static let compulsoryClassFields = ["class_id", "grade", "students"]
    /// Grades of compulsory education.
    static let grades: ClosedRange<Int64> = 1...9
    static let compulsoryRetentionFields = ["year", "grade9_students", "cohort_entrants", "as_of"]
    static let specialPopulationFields = [
        "year", "disabled_school_age", "enrolled", "home_delivered", "disabled_preschool_age_certified", "as_of",
    ]
    /// Levels that send `compulsory.census`.
    static let compulsoryLevels: Set<InstitutionLevel> = [.primary, .junior, .nineYear, .special]

    static func compulsoryCensus(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .compulsoryCensus, fields: compulsoryCensusFields)
        let institutionID = try reader.identifier("institution_id")
        let year = try reader.year()
        let students = try reader.count("students")
        let migrants = try reader.count("migrant_students")
        try reader.requireNotAbove("migrant_students", migrants, "students", students)
        let classes = try reader.objects(
            "classes", allowed: compulsoryClassFields, subject: Expected(en: "a compulsory.census class", zh: "义务教育学校普查（compulsory.census）班级"))
        var classIDs = ClassIDs()
        for row in classes {
            try classIDs.insert(try row.identifier("class_id"), of: row)
            _ = try row.integer("grade", in: grades)
            _ = try row.integer("students", in: 0...maxClassSize)
        }
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(
            type: .compulsoryCensus, key: key(institutionID, year), asOf: asOf, body: body,
            references: [.institution(id: institutionID, path: "body.institution_id", levels: compulsoryLevels)],
            institutionID: institutionID)
    }

    static func compulsoryRetention(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .compulsoryRetention, fields: compulsoryRetentionFields)
        let year = try reader.year()
        _ = try reader.count("grade9_students")
        _ = try reader.count("cohort_entrants")
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(type: .compulsoryRetention, key: String(year), asOf: asOf, body: body)
    }

    static func specialPopulation(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .specialPopulation, fields: specialPopulationFields)
        let year = try reader.year()
        let schoolAge = try reader.count("disabled_school_age")
        let enrolled = try reader.count("enrolled")
        try reader.requireNotAbove("enrolled", enrolled, "disabled_school_age", schoolAge)
        let homeDelivered = try reader.count("home_delivered")
        try reader.requireNotAbove("home_delivered", homeDelivered, "disabled_school_age", schoolAge)
        _ = try reader.count("disabled_preschool_age_certified")
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(type: .specialPopulation, key: String(year), asOf: asOf, body: body)
    }
}
