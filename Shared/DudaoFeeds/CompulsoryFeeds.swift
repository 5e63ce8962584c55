import DudaoCore

/// `compulsory.census`: one compulsory-education institution's students and classes in a year.
public struct CompulsoryCensus: Sendable, Equatable {
    /// One class of the census.
    public struct Class: Sendable, Equatable {
        public var classID: String
        /// 1–9.
        public var grade: Int64
        public var students: Int64
    }

    public var institutionID: String
    public var year: Int64
    public var students: Int64
    public var migrantStudents: Int64
    public var classes: [Class]
    public var asOf: Timestamp?
}

/// `compulsory.retention`: city-wide nine-year retention figures of a year.
public struct CompulsoryRetention: Sendable, Equatable {
    public var year: Int64
    public var grade9Students: Int64
    public var cohortEntrants: Int64
    public var asOf: Timestamp?
}

/// `special.population`: city-wide figures on disabled children of a year.
public struct SpecialPopulation: Sendable, Equatable {
    public var year: Int64
    public var disabledSchoolAge: Int64
    public var enrolled: Int64
    public var homeDelivered: Int64
    public var disabledPreschoolAgeCertified: Int64
    public var asOf: Timestamp?
}

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

    static func compulsoryCensus(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .compulsoryCensus, fields: compulsoryCensusFields)
        let institutionID = try reader.identifier("institution_id")
        let year = try reader.year()
        let students = try reader.count("students")
        let migrants = try reader.count("migrant_students")
        try reader.requireNotAbove("migrant_students", migrants, "students", students)
        let rows = try reader.objects(
            "classes", allowed: compulsoryClassFields, subject: Expected(en: "a compulsory.census class", zh: "义务教育学校普查（compulsory.census）班级"))
        var classIDs = ClassIDs()
        var classes: [CompulsoryCensus.Class] = []
        classes.reserveCapacity(rows.count)
        for row in rows {
            let classID = try row.identifier("class_id")
            try classIDs.insert(classID, of: row)
            classes.append(
                CompulsoryCensus.Class(
                    classID: classID, grade: try row.integer("grade", in: grades),
                    students: try row.integer("students", in: 0...maxClassSize)))
        }
        return .compulsoryCensus(
            CompulsoryCensus(
                institutionID: institutionID, year: year, students: students, migrantStudents: migrants, classes: classes,
                asOf: try reader.optionalTimestamp("as_of")))
    }

    static func compulsoryRetention(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .compulsoryRetention, fields: compulsoryRetentionFields)
        return .compulsoryRetention(
            CompulsoryRetention(
                year: try reader.year(), grade9Students: try reader.count("grade9_students"),
                cohortEntrants: try reader.count("cohort_entrants"), asOf: try reader.optionalTimestamp("as_of")))
    }

    static func specialPopulation(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .specialPopulation, fields: specialPopulationFields)
        let year = try reader.year()
        let schoolAge = try reader.count("disabled_school_age")
        let enrolled = try reader.count("enrolled")
        try reader.requireNotAbove("enrolled", enrolled, "disabled_school_age", schoolAge)
        let homeDelivered = try reader.count("home_delivered")
        try reader.requireNotAbove("home_delivered", homeDelivered, "disabled_school_age", schoolAge)
        return .specialPopulation(
            SpecialPopulation(
                year: year, disabledSchoolAge: schoolAge, enrolled: enrolled, homeDelivered: homeDelivered,
                disabledPreschoolAgeCertified: try reader.count("disabled_preschool_age_certified"),
                asOf: try reader.optionalTimestamp("as_of")))
    }
}
