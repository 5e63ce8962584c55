import DudaoCore

/// `finance.year`: city-wide education finance of a year (万元 and 元).
public struct FinanceYear: Sendable, Equatable {
    public var year: Int64
    public var preschoolFiscalWan: Double
    public var educationFiscalWan: Double
    public var publicKgPerPupilYuan: Double
    public var inclusivePrivateSubsidyYuan: Double
    public var asOf: Timestamp?
}

/// `survey.recognition`: city-wide satisfaction survey of a year.
public struct SurveyRecognition: Sendable, Equatable {
    public var year: Int64
    public var respondents: Int64
    public var satisfied: Int64
    public var asOf: Timestamp?
}

/// `talent.year`: city-wide teacher talent figures of a year.
public struct TalentYear: Sendable, Equatable {
    /// Famous teachers' studios (名师工作室) by level.
    public struct Studios: Sendable, Equatable {
        public var provincial: Int64
        public var city: Int64
        public var county: Int64
    }

    public var year: Int64
    public var countyFamousTeachers: Int64
    public var cityExcellentTeachers: Int64
    public var studios: Studios
    public var asOf: Timestamp?
}

/// The city-wide, year-keyed feeds: `finance.year`, `survey.recognition`, `talent.year`.
extension FeedValidator {
    static let financeYearFields = [
        "year", "preschool_fiscal_wan", "education_fiscal_wan", "public_kg_per_pupil_yuan",
        "inclusive_private_subsidy_yuan", "as_of",
    ]
    static let surveyRecognitionFields = ["year", "respondents", "satisfied", "as_of"]
    static let talentYearFields = ["year", "county_famous_teachers", "city_excellent_teachers", "studios", "as_of"]
    static let studioFields = ["provincial", "city", "county"]

    static func financeYear(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .financeYear, fields: financeYearFields)
        return .financeYear(
            FinanceYear(
                year: try reader.year(), preschoolFiscalWan: try reader.money("preschool_fiscal_wan"),
                educationFiscalWan: try reader.money("education_fiscal_wan"),
                publicKgPerPupilYuan: try reader.money("public_kg_per_pupil_yuan"),
                inclusivePrivateSubsidyYuan: try reader.money("inclusive_private_subsidy_yuan"),
                asOf: try reader.optionalTimestamp("as_of")))
    }

    static func surveyRecognition(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .surveyRecognition, fields: surveyRecognitionFields)
        let year = try reader.year()
        let respondents = try reader.count("respondents")
        let satisfied = try reader.count("satisfied")
        try reader.requireNotAbove("satisfied", satisfied, "respondents", respondents)
        return .surveyRecognition(
            SurveyRecognition(year: year, respondents: respondents, satisfied: satisfied, asOf: try reader.optionalTimestamp("as_of")))
    }

    static func talentYear(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .talentYear, fields: talentYearFields)
        let year = try reader.year()
        let famous = try reader.count("county_famous_teachers")
        let excellent = try reader.count("city_excellent_teachers")
        let studios = try reader.object("studios", allowed: studioFields)
        return .talentYear(
            TalentYear(
                year: year, countyFamousTeachers: famous, cityExcellentTeachers: excellent,
                studios: TalentYear.Studios(
                    provincial: try studios.count("provincial"), city: try studios.count("city"), county: try studios.count("county")),
                asOf: try reader.optionalTimestamp("as_of")))
    }
}
