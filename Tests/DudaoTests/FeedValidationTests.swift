import DudaoCore
import DudaoFeeds
import Testing

/// One valid body of every feed type, and helpers to parse and vary them.
enum FeedSamples {
    static let bodies: [FeedType: String] = [
        .registryTown: #"{"town_id":"dongcheng","name":"东成镇","kind":"town"}"#,
        .registryInstitution: #"""
            {"institution_id":"kg-1","name":"东成镇中心幼儿园","town_id":"dongcheng","level":"kindergarten",
             "ownership":"public","town_central":true,"as_of":"2025-09-01T08:00:00+08:00"}
            """#,
        .populationCohort: #"{"town_id":"dongcheng","year":2025,"age_3":410,"age_4":395,"age_5":402}"#,
        .preschoolCensus: #"""
            {"institution_id":"kg-1","year":2025,
             "classes":[{"class_id":"s1","level":"small","children":25,"teachers":2,"caregivers":1},
                        {"class_id":"m1","level":"middle","children":30,"teachers":2,"caregivers":1},
                        {"class_id":"l1","level":"large","children":200,"teachers":2,"caregivers":1}],
             "full_time_teachers":6,"caregivers":3,"staff_total":12,"certified_teachers":6,
             "disabled_children_certified":1,"as_of":"2025-09-30T10:00:00+08:00"}
            """#,
        .compulsoryCensus: #"""
            {"institution_id":"pri-1","year":2025,"students":900,"migrant_students":120,
             "classes":[{"class_id":"1-1","grade":1,"students":45},{"class_id":"9-1","grade":9,"students":56}]}
            """#,
        .compulsoryRetention: #"{"year":2025,"grade9_students":4800,"cohort_entrants":4950}"#,
        .specialPopulation: #"""
            {"year":2025,"disabled_school_age":100,"enrolled":90,"home_delivered":95,
             "disabled_preschool_age_certified":20}
            """#,
        .financeYear: #"""
            {"year":2025,"preschool_fiscal_wan":12000.5,"education_fiscal_wan":200000,
             "public_kg_per_pupil_yuan":600,"inclusive_private_subsidy_yuan":500.25}
            """#,
        .surveyRecognition: #"{"year":2025,"respondents":1000,"satisfied":1000}"#,
        .talentYear: #"""
            {"year":2025,"county_famous_teachers":61,"city_excellent_teachers":10,
             "studios":{"provincial":1,"city":6,"county":20}}
            """#,
        .projectProgress: #"""
            {"project_id":"p-kg-07","name":"恩城第七幼儿园","kind":"kindergarten","seats_planned":360,
             "seats_delivered":400,"investment_planned_wan":1800,"invested_wan":2100.5,"due":"2024-08-31",
             "status":"done"}
            """#,
        .safetyInventory: #"""
            {"institution_id":"kg-1","alarm_devices":["dev-1","dev-2"],"cctv_police_linked":true,"cameras":40,
             "cameras_linked":40,"closed_management":true,"guards_required":2,"guards_full_time":2}
            """#,
        .safetyHeartbeat: #"""
            {"device_id":"dev-1","institution_id":"kg-1","device_kind":"alarm","at":"2025-09-30T10:00:00+08:00",
             "status":"ok"}
            """#,
        .safetyAlarm: #"""
            {"device_id":"dev-1","institution_id":"kg-1","at":"2025-09-30T02:00:05.123Z","note":"门口有可疑人员"}
            """#,
    ]

    /// The sample body of `type`.
    static func body(_ type: FeedType) throws -> JSONObject {
        try parse(try #require(bodies[type]))
    }

    /// `json` parsed as an object.
    static func parse(_ json: String) throws -> JSONObject {
        try #require(try JSONParser.parse(json).objectValue)
    }

    /// A change to a sample body.
    enum Change: Sendable {
        case set(String, JSONValue)
        case remove(String)
    }

    /// The sample body of `type` with `changes` applied.
    static func body(_ type: FeedType, _ changes: [Change]) throws -> JSONObject {
        var object = try body(type)
        for change in changes {
            switch change {
            case .set(let key, let value): object[key] = value
            case .remove(let key): object[key] = nil
            }
        }
        return object
    }

    /// The validation result, as a value or a thrown error for `#require`.
    static func accept(_ type: FeedType, _ body: JSONObject) throws -> ValidatedFeed {
        try FeedValidator.validate(type: type.rawValue, body: body).get()
    }

    /// The error a rejected body gets (a test failure when it is accepted).
    static func reject(_ type: FeedType, _ body: JSONObject) throws -> WireError {
        switch FeedValidator.validate(type: type.rawValue, body: body) {
        case .success(let feed):
            Issue.record("\(type.rawValue) body was accepted with key \(feed.key)")
            throw AcceptedError()
        case .failure(let error):
            return error
        }
    }

    struct AcceptedError: Error {}
}

/// What a valid sample must validate to.
struct AcceptedCase: Sendable, CustomTestStringConvertible {
    var type: FeedType
    var key: String
    var asOf: String? = nil
    var references: [FeedReference] = []
    var townID: String? = nil
    var institutionID: String? = nil

    var testDescription: String { type.rawValue }
}

@Suite struct FeedValidationTests {
    static let accepted: [AcceptedCase] = [
        AcceptedCase(type: .registryTown, key: "dongcheng", townID: "dongcheng"),
        AcceptedCase(
            type: .registryInstitution, key: "kg-1", asOf: "2025-09-01T00:00:00Z",
            references: [.town(id: "dongcheng", path: "body.town_id")], townID: "dongcheng", institutionID: "kg-1"),
        AcceptedCase(
            type: .populationCohort, key: "dongcheng|2025", references: [.town(id: "dongcheng", path: "body.town_id")],
            townID: "dongcheng"),
        AcceptedCase(
            type: .preschoolCensus, key: "kg-1|2025", asOf: "2025-09-30T02:00:00Z",
            references: [.institution(id: "kg-1", path: "body.institution_id", levels: [.kindergarten])],
            institutionID: "kg-1"),
        AcceptedCase(
            type: .compulsoryCensus, key: "pri-1|2025",
            references: [
                .institution(id: "pri-1", path: "body.institution_id", levels: [.primary, .junior, .nineYear, .special])
            ],
            institutionID: "pri-1"),
        AcceptedCase(type: .compulsoryRetention, key: "2025"),
        AcceptedCase(type: .specialPopulation, key: "2025"),
        AcceptedCase(type: .financeYear, key: "2025"),
        AcceptedCase(type: .surveyRecognition, key: "2025"),
        AcceptedCase(type: .talentYear, key: "2025"),
        AcceptedCase(type: .projectProgress, key: "p-kg-07"),
        AcceptedCase(
            type: .safetyInventory, key: "kg-1",
            references: [.institution(id: "kg-1", path: "body.institution_id", levels: nil)], institutionID: "kg-1"),
        AcceptedCase(
            type: .safetyHeartbeat, key: "dev-1", asOf: "2025-09-30T02:00:00Z",
            references: [.institution(id: "kg-1", path: "body.institution_id", levels: nil)], institutionID: "kg-1"),
        AcceptedCase(
            type: .safetyAlarm, key: "dev-1|1759197605123", asOf: "2025-09-30T02:00:05.123Z",
            references: [.institution(id: "kg-1", path: "body.institution_id", levels: nil)], institutionID: "kg-1"),
    ]

    @Test func everyFeedTypeHasASample() {
        #expect(Set(Self.accepted.map(\.type)) == Set(FeedType.allCases))
        #expect(Set(FeedSamples.bodies.keys) == Set(FeedType.allCases))
    }

    @Test(arguments: accepted)
    func validSampleIsAccepted(_ expected: AcceptedCase) throws {
        let body = try FeedSamples.body(expected.type)
        let feed = try FeedSamples.accept(expected.type, body)
        #expect(feed.type == expected.type)
        #expect(feed.key == expected.key)
        #expect(feed.asOf == expected.asOf.flatMap(Timestamp.init(rfc3339:)))
        #expect(feed.references == expected.references)
        #expect(feed.townID == expected.townID)
        #expect(feed.institutionID == expected.institutionID)
        #expect(feed.body == body)
    }

    @Test func alarmKeyNormalisesTheOffset() throws {
        let a = try FeedSamples.accept(.safetyAlarm, try FeedSamples.body(.safetyAlarm, [.set("at", "2025-09-30T10:00:00+08:00")]))
        let b = try FeedSamples.accept(.safetyAlarm, try FeedSamples.body(.safetyAlarm, [.set("at", "2025-09-30T02:00:00.000Z")]))
        #expect(a.key == "dev-1|1759197600000")
        #expect(a.key == b.key)
        #expect(a.asOf == b.asOf)
    }

    @Test func unknownTypeIsRejectedAtType() {
        let result = FeedValidator.validate(type: "preschool.censuses", body: [:])
        guard case .failure(let error) = result else {
            Issue.record("unknown type accepted")
            return
        }
        #expect(error.code == .unknownType)
        #expect(error.path == "type")
        #expect(error.message.contains("preschool.censuses"))
    }

    @Test func unknownFieldNamesTheFieldAndTheAllowedOnes() throws {
        let error = try FeedSamples.reject(.preschoolCensus, try FeedSamples.body(.preschoolCensus, [.set("colour", "red")]))
        #expect(error.code == .invalidField)
        #expect(error.path == "body.colour")
        #expect(error.message.hasPrefix("body.colour is not a field of preschool.census; allowed: institution_id, year"))
    }

    @Test func wrongTypeSaysWhatIsExpected() throws {
        let error = try FeedSamples.reject(.populationCohort, try FeedSamples.body(.populationCohort, [.set("year", 1999)]))
        #expect(
            error
                == WireError(
                    .invalidField, "body.year must be an integer from 2000 to 2100, got 1999", zh: "字段 body.year 应为 2000 到 2100 之间的整数，实际为 1999",
                    path: "body.year"))
        let text = try FeedSamples.reject(.populationCohort, try FeedSamples.body(.populationCohort, [.set("age_3", "410")]))
        #expect(
            text
                == WireError(
                    .invalidField, "body.age_3 must be an integer >= 0, got \"410\"", zh: "字段 body.age_3 应为大于等于 0 的整数，实际为 \"410\"",
                    path: "body.age_3"))
    }

    @Test func missingFieldIsNamed() throws {
        let error = try FeedSamples.reject(.registryTown, try FeedSamples.body(.registryTown, [.remove("name")]))
        #expect(error.code == .invalidField)
        #expect(error.path == "body.name")
        #expect(error.message.hasPrefix("body.name is missing"))
    }

    @Test func emptyBodyReportsTheFirstField() throws {
        let error = try FeedSamples.reject(.safetyHeartbeat, [:])
        #expect(error.path == "body.device_id")
    }

    @Test func optionalFieldsMayBeAbsentOrNull() throws {
        let none = try FeedSamples.accept(.registryInstitution, try FeedSamples.body(.registryInstitution, [.remove("as_of"), .remove("town_central")]))
        #expect(none.asOf == nil)
        let null = try FeedSamples.accept(.populationCohort, try FeedSamples.body(.populationCohort, [.set("as_of", .null)]))
        #expect(null.asOf == nil)
        _ = try FeedSamples.accept(.safetyAlarm, try FeedSamples.body(.safetyAlarm, [.remove("note")]))
    }

    @Test func emptyClassListsAreAllowed() throws {
        _ = try FeedSamples.accept(.preschoolCensus, try FeedSamples.body(.preschoolCensus, [.set("classes", [])]))
        _ = try FeedSamples.accept(.compulsoryCensus, try FeedSamples.body(.compulsoryCensus, [.set("classes", [])]))
        _ = try FeedSamples.accept(.safetyInventory, try FeedSamples.body(.safetyInventory, [.set("alarm_devices", [])]))
    }

    @Test func moneyMayBeIntegerOrDecimalButCountsMustBeIntegers() throws {
        _ = try FeedSamples.accept(.financeYear, try FeedSamples.body(.financeYear, [.set("preschool_fiscal_wan", 0), .set("education_fiscal_wan", 1.5)]))
        let error = try FeedSamples.reject(.surveyRecognition, try FeedSamples.body(.surveyRecognition, [.set("respondents", 1000.0)]))
        #expect(error.path == "body.respondents")
        #expect(error.message == "body.respondents must be an integer >= 0, got 1000.0")
    }

    @Test func townCentralFalseIsFineForAnyLevel() throws {
        _ = try FeedSamples.accept(.registryInstitution, try FeedSamples.body(.registryInstitution, [.set("level", "primary"), .set("town_central", false)]))
    }

    @Test func idsAllowUpTo64SafeCharacters() throws {
        let long = String(repeating: "a", count: 64)
        let feed = try FeedSamples.accept(.registryTown, try FeedSamples.body(.registryTown, [.set("town_id", .string("A.b_c-9" + long.dropFirst(7)))]))
        #expect(feed.key.count == 64)
    }
}
