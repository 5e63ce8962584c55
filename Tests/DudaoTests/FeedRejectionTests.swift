import Foundation
import DudaoCore
import DudaoFeeds
import Testing

/// A sample body with changes that must be refused with `code` at `path`.
struct RejectedCase: Sendable, CustomTestStringConvertible {
    var type: FeedType
    var changes: [FeedSamples.Change]
    var path: String
    var code: WireErrorCode = .invalidField
    /// Replaces the whole body when set.
    var json: String?

    init(_ type: FeedType, _ changes: [FeedSamples.Change], _ path: String, code: WireErrorCode = .invalidField) {
        self.type = type
        self.changes = changes
        self.path = path
        self.code = code
    }

    init(_ type: FeedType, json: String, _ path: String) {
        self.type = type
        self.changes = []
        self.path = path
        self.json = json
    }

    var testDescription: String { "\(type.rawValue) → \(path)" }
}

@Suite struct FeedRejectionTests {
    static let long201 = JSONValue.string(String(repeating: "名", count: 201))

    static let cases: [RejectedCase] = [
        // registry.town
        RejectedCase(.registryTown, [.set("kind", "village")], "body.kind"),
        RejectedCase(.registryTown, [.remove("town_id")], "body.town_id"),
        RejectedCase(.registryTown, [.set("town_id", "dong cheng")], "body.town_id"),
        RejectedCase(.registryTown, [.set("town_id", .string(String(repeating: "a", count: 65)))], "body.town_id"),
        RejectedCase(.registryTown, [.set("town_id", "")], "body.town_id"),
        RejectedCase(.registryTown, [.set("name", "")], "body.name"),
        RejectedCase(.registryTown, [.set("name", "   ")], "body.name"),
        RejectedCase(.registryTown, [.set("name", long201)], "body.name"),
        RejectedCase(.registryTown, [.set("as_of", "2025-09-30")], "body.as_of"),
        // registry.institution
        RejectedCase(.registryInstitution, [.set("level", "college")], "body.level"),
        RejectedCase(.registryInstitution, [.set("ownership", "state")], "body.ownership"),
        RejectedCase(.registryInstitution, [.set("level", "primary")], "body.town_central"),
        RejectedCase(.registryInstitution, [.set("town_central", "yes")], "body.town_central"),
        RejectedCase(.registryInstitution, [.set("town_id", 7)], "body.town_id"),
        // population.cohort
        RejectedCase(.populationCohort, [.set("year", 2101)], "body.year"),
        RejectedCase(.populationCohort, [.set("age_3", -1)], "body.age_3"),
        RejectedCase(.populationCohort, [.set("age_4", 3.5)], "body.age_4"),
        RejectedCase(.populationCohort, [.set("age_5", 3.0)], "body.age_5"),
        RejectedCase(.populationCohort, [.set("age_6", 3)], "body.age_6"),
        // preschool.census
        RejectedCase(.preschoolCensus, [.set("colour", "red")], "body.colour"),
        RejectedCase(.preschoolCensus, [.remove("staff_total")], "body.staff_total"),
        RejectedCase(.preschoolCensus, [.set("classes", "none")], "body.classes"),
        RejectedCase(.preschoolCensus, [.set("classes", [1])], "body.classes[0]"),
        RejectedCase(.preschoolCensus, [.set("certified_teachers", 7)], "body.certified_teachers"),
        RejectedCase(.preschoolCensus, [.set("as_of", "yesterday")], "body.as_of"),
        RejectedCase(.preschoolCensus, [.set("classes", [
            ["class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1],
            ["class_id": "s2", "level": "small", "children": 201, "teachers": 2, "caregivers": 1],
        ])], "body.classes[1].children"),
        RejectedCase(.preschoolCensus, [.set("classes", [
            ["class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1],
            ["class_id": "s2", "level": "huge", "children": 20, "teachers": 2, "caregivers": 1],
        ])], "body.classes[1].level"),
        RejectedCase(.preschoolCensus, [.set("classes", [
            ["class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1, "colour": "red"],
        ])], "body.classes[0].colour"),
        RejectedCase(.preschoolCensus, [.set("classes", [
            ["class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1],
            ["class_id": "s2", "level": "small", "children": 20, "teachers": 2, "caregivers": 1],
            ["class_id": "s1", "level": "large", "children": 20, "teachers": 2, "caregivers": 1],
        ])], "body.classes[2].class_id"),
        RejectedCase(.preschoolCensus, [.set("classes", [
            ["class_id": "s1", "level": "small", "children": 25, "teachers": 2],
        ])], "body.classes[0].caregivers"),
        // compulsory.census
        RejectedCase(.compulsoryCensus, [.set("migrant_students", 901)], "body.migrant_students"),
        RejectedCase(.compulsoryCensus, [.set("classes", [["class_id": "x", "grade": 10, "students": 30]])], "body.classes[0].grade"),
        RejectedCase(.compulsoryCensus, [.set("classes", [["class_id": "x", "grade": 0, "students": 30]])], "body.classes[0].grade"),
        RejectedCase(.compulsoryCensus, [.set("classes", [["class_id": "x", "grade": 3, "students": 201]])], "body.classes[0].students"),
        RejectedCase(.compulsoryCensus, [.set("classes", [
            ["class_id": "x", "grade": 3, "students": 40], ["class_id": "x", "grade": 4, "students": 40],
        ])], "body.classes[1].class_id"),
        RejectedCase(.compulsoryCensus, [.set("classes", [["class_id": "x y", "grade": 3, "students": 40]])], "body.classes[0].class_id"),
        // compulsory.retention
        RejectedCase(.compulsoryRetention, [.remove("grade9_students")], "body.grade9_students"),
        RejectedCase(.compulsoryRetention, [.set("cohort_entrants", -5)], "body.cohort_entrants"),
        RejectedCase(.compulsoryRetention, [.set("year", "2025")], "body.year"),
        // special.population
        RejectedCase(.specialPopulation, [.set("enrolled", 101)], "body.enrolled"),
        RejectedCase(.specialPopulation, [.set("home_delivered", 101)], "body.home_delivered"),
        RejectedCase(.specialPopulation, [.remove("disabled_preschool_age_certified")], "body.disabled_preschool_age_certified"),
        // finance.year
        RejectedCase(.financeYear, [.set("preschool_fiscal_wan", -0.5)], "body.preschool_fiscal_wan"),
        RejectedCase(.financeYear, [.set("education_fiscal_wan", "200000")], "body.education_fiscal_wan"),
        RejectedCase(.financeYear, [.remove("inclusive_private_subsidy_yuan")], "body.inclusive_private_subsidy_yuan"),
        // survey.recognition
        RejectedCase(.surveyRecognition, [.set("satisfied", 1001)], "body.satisfied"),
        RejectedCase(.surveyRecognition, [.set("respondents", .null)], "body.respondents"),
        // talent.year
        RejectedCase(.talentYear, [.set("studios", ["provincial": 1, "city": 6])], "body.studios.county"),
        RejectedCase(.talentYear, [.set("studios", ["provincial": 1, "city": 6, "county": 20, "national": 0])], "body.studios.national"),
        RejectedCase(.talentYear, [.set("studios", [1, 6, 20])], "body.studios"),
        RejectedCase(.talentYear, [.set("county_famous_teachers", 60.5)], "body.county_famous_teachers"),
        // project.progress
        RejectedCase(.projectProgress, [.set("due", "2025-02-30")], "body.due"),
        RejectedCase(.projectProgress, [.set("due", "2025-09-30T00:00:00Z")], "body.due"),
        RejectedCase(.projectProgress, [.set("status", "finished")], "body.status"),
        RejectedCase(.projectProgress, [.set("kind", "senior_high")], "body.kind"),
        RejectedCase(.projectProgress, [.set("invested_wan", -1)], "body.invested_wan"),
        // safety.inventory
        RejectedCase(.safetyInventory, [.set("cameras_linked", 41)], "body.cameras_linked"),
        RejectedCase(.safetyInventory, [.set("alarm_devices", ["dev-1", "dev-2", "dev-1"])], "body.alarm_devices[2]"),
        RejectedCase(.safetyInventory, [.set("alarm_devices", ["dev 1"])], "body.alarm_devices[0]"),
        RejectedCase(.safetyInventory, [.set("alarm_devices", "dev-1")], "body.alarm_devices"),
        RejectedCase(.safetyInventory, [.set("cctv_police_linked", "yes")], "body.cctv_police_linked"),
        RejectedCase(.safetyInventory, [.remove("guards_full_time")], "body.guards_full_time"),
        // safety.heartbeat
        RejectedCase(.safetyHeartbeat, [.remove("at")], "body.at"),
        RejectedCase(.safetyHeartbeat, [.set("as_of", "2025-09-30T10:00:00+08:00")], "body.as_of"),
        RejectedCase(.safetyHeartbeat, [.set("status", "down")], "body.status"),
        RejectedCase(.safetyHeartbeat, [.set("device_kind", "camera")], "body.device_kind"),
        RejectedCase(.safetyHeartbeat, [.set("at", "2025-09-30T25:00:00Z")], "body.at"),
        // safety.alarm
        RejectedCase(.safetyAlarm, [.set("note", .string(String(repeating: "x", count: 501)))], "body.note"),
        RejectedCase(.safetyAlarm, [.set("note", 5)], "body.note"),
        RejectedCase(.safetyAlarm, [.set("at", "2025-09-30 10:00")], "body.at"),
        RejectedCase(.safetyAlarm, [.set("device_id", .string(String(repeating: "d", count: 65)))], "body.device_id"),
        RejectedCase(.safetyAlarm, [.set("as_of", "2025-09-30T10:00:00+08:00")], "body.as_of"),
    ]

    @Test(arguments: cases)
    func isRejectedAtPath(_ rejected: RejectedCase) throws {
        let body = try rejected.json.map(FeedSamples.parse) ?? FeedSamples.body(rejected.type, rejected.changes)
        let error = try FeedSamples.reject(rejected.type, body)
        #expect(error.code == rejected.code)
        #expect(error.path == rejected.path)
        #expect(error.message.hasPrefix(rejected.path + " "), "message: \(error.message)")
        // The Chinese sentence names the same field and is worded in Chinese, not the code's fallback.
        #expect(Self.names(error.messageZh, path: rejected.path), "message_zh: \(error.messageZh)")
        #expect(!error.messageZh.contains(error.message), "message_zh only repeats the English: \(error.messageZh)")
    }

    /// Whether `text` names `path` as a whole (not the start of a longer path).
    static func names(_ text: String, path: String) -> Bool {
        var rest = Substring(text)
        while let range = rest.range(of: path) {
            let next = rest[range.upperBound...].first
            if next.map({ !($0.isLetter && $0.isASCII) && !$0.isNumber && !"._[]".contains($0) }) ?? true { return true }
            rest = rest[range.upperBound...]
        }
        return false
    }

    @Test func everyFeedTypeHasARejection() {
        #expect(Set(Self.cases.map(\.type)) == Set(FeedType.allCases))
    }

    // MARK: - Cross-field rules at their limits

    @Test func classSizeOf200IsAllowedAnd201IsNot() throws {
        let at200: JSONValue = [["class_id": "a", "grade": 1, "students": 200]]
        _ = try FeedSamples.accept(.compulsoryCensus, try FeedSamples.body(.compulsoryCensus, [.set("classes", at200)]))
        let error = try FeedSamples.reject(
            .preschoolCensus,
            try FeedSamples.body(.preschoolCensus, [.set("classes", [
                ["class_id": "a", "level": "mixed", "children": 201, "teachers": 2, "caregivers": 1],
            ])]))
        #expect(error.message == "body.classes[0].children must be an integer from 0 to 200, got 201")
    }

    @Test func countsMayEqualTheirLimit() throws {
        _ = try FeedSamples.accept(.surveyRecognition, try FeedSamples.body(.surveyRecognition, [.set("satisfied", 1000)]))
        _ = try FeedSamples.accept(.specialPopulation, try FeedSamples.body(.specialPopulation, [.set("enrolled", 100), .set("home_delivered", 100)]))
        _ = try FeedSamples.accept(.compulsoryCensus, try FeedSamples.body(.compulsoryCensus, [.set("migrant_students", 900)]))
        _ = try FeedSamples.accept(.safetyInventory, try FeedSamples.body(.safetyInventory, [.set("cameras_linked", 40)]))
        _ = try FeedSamples.accept(.preschoolCensus, try FeedSamples.body(.preschoolCensus, [.set("certified_teachers", 6)]))
    }

    @Test func homeDeliveredMayExceedEnrolled() throws {
        _ = try FeedSamples.accept(
            .specialPopulation, try FeedSamples.body(.specialPopulation, [.set("enrolled", 10), .set("home_delivered", 60)]))
    }

    @Test func crossFieldMessageNamesBothFields() throws {
        let error = try FeedSamples.reject(.surveyRecognition, try FeedSamples.body(.surveyRecognition, [.set("satisfied", 1001)]))
        #expect(error.message == "body.satisfied (1001) must not exceed body.respondents (1000)")
    }

    @Test func duplicateClassNamesTheFirstUse() throws {
        let error = try FeedSamples.reject(.compulsoryCensus, try FeedSamples.body(.compulsoryCensus, [.set("classes", [
            ["class_id": "x", "grade": 3, "students": 40], ["class_id": "x", "grade": 4, "students": 40],
        ])]))
        #expect(error.message.contains("body.classes[0]"))
    }

    @Test func unseatedDeliveryAndOverspendAreAllowed() throws {
        _ = try FeedSamples.accept(
            .projectProgress, try FeedSamples.body(.projectProgress, [.set("seats_delivered", 0), .set("invested_wan", 99999.99)]))
    }

    @Test func wholeBodyMustBeJSONTyped() throws {
        let error = try FeedSamples.reject(.talentYear, try FeedSamples.parse(#"{"year":2025.0}"#))
        #expect(error.path == "body.year")
    }
}
