import DudaoCore

/// `preschool.census`: one kindergarten's classes and staff in the autumn term of a year.
public struct PreschoolCensus: Sendable, Equatable {
    /// One class of the census.
    public struct Class: Sendable, Equatable {
        public var classID: String
        public var level: PreschoolClassLevel
        public var children: Int64
        public var teachers: Int64
        public var caregivers: Int64
    }

    public var institutionID: String
    public var year: Int64
    public var classes: [Class]
    public var fullTimeTeachers: Int64
    public var caregivers: Int64
    public var staffTotal: Int64
    public var certifiedTeachers: Int64
    public var disabledChildrenCertified: Int64
    /// Principals (园长) and those holding the certificate (optional; the national assessment's
    /// 园长和专任教师持证上岗率).
    public var principals: Int64?
    public var certifiedPrincipals: Int64?
    /// The premises, m² (optional; the national assessment's 办园条件 per child): outdoor play
    /// ground, activity rooms, the building.
    public var outdoorAreaM2: Double?
    public var activityRoomAreaM2: Double?
    public var buildingAreaM2: Double?
    public var asOf: Timestamp?
}

extension FeedValidator {
    static let preschoolCensusFields = [
        "institution_id", "year", "classes", "full_time_teachers", "caregivers", "staff_total",
        "certified_teachers", "disabled_children_certified", "principals", "certified_principals", "outdoor_area_m2",
        "activity_room_area_m2", "building_area_m2", "as_of",
    ]
    static let preschoolClassFields = ["class_id", "level", "children", "teachers", "caregivers"]
    /// Most children or students one class may report.
    static let maxClassSize: Int64 = 200

    static func preschoolCensus(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .preschoolCensus, fields: preschoolCensusFields)
        let institutionID = try reader.identifier("institution_id")
        let year = try reader.year()
        let rows = try reader.objects(
            "classes", allowed: preschoolClassFields, subject: Expected(en: "a preschool.census class", zh: "幼儿园普查（preschool.census）班级"))
        var classIDs = ClassIDs()
        var classes: [PreschoolCensus.Class] = []
        classes.reserveCapacity(rows.count)
        for row in rows {
            let classID = try row.identifier("class_id")
            try classIDs.insert(classID, of: row)
            classes.append(
                PreschoolCensus.Class(
                    classID: classID, level: try row.choice("level", PreschoolClassLevel.self),
                    children: try row.integer("children", in: 0...maxClassSize), teachers: try row.count("teachers"),
                    caregivers: try row.count("caregivers")))
        }
        let fullTimeTeachers = try reader.count("full_time_teachers")
        let caregivers = try reader.count("caregivers")
        let staffTotal = try reader.count("staff_total")
        let certified = try reader.count("certified_teachers")
        try reader.requireNotAbove("certified_teachers", certified, "full_time_teachers", fullTimeTeachers)
        let disabled = try reader.count("disabled_children_certified")
        let principals = try reader.optionalCount("principals")
        let certifiedPrincipals = try reader.optionalCount("certified_principals")
        if let certifiedPrincipals {
            try reader.requireNotAbove("certified_principals", certifiedPrincipals, "principals", principals ?? 0)
        }
        return .preschoolCensus(
            PreschoolCensus(
                institutionID: institutionID, year: year, classes: classes, fullTimeTeachers: fullTimeTeachers,
                caregivers: caregivers, staffTotal: staffTotal, certifiedTeachers: certified,
                disabledChildrenCertified: disabled,
                principals: principals, certifiedPrincipals: certifiedPrincipals,
                outdoorAreaM2: try reader.optionalMoney("outdoor_area_m2"),
                activityRoomAreaM2: try reader.optionalMoney("activity_room_area_m2"),
                buildingAreaM2: try reader.optionalMoney("building_area_m2"), asOf: try reader.optionalTimestamp("as_of")))
    }
}

/// The `class_id`s seen so far in one census; a repeat is refused at the repeat's path.
struct ClassIDs {
    private var seen: [String: String] = [:]

    mutating func insert(_ classID: String, of row: FieldReader) throws(WireError) {
        if let first = seen[classID] {
            throw row.invalid(
                "class_id", { "\($0) repeats class \"\(classID)\", already used at \(first); each class_id must be unique in one census" },
                zh: { "\($0) 重复了班级 \"\(classID)\"（已在 \(first) 使用）；同一份普查中 class_id 不得重复" })
        }
        seen[classID] = row.path
    }
}
