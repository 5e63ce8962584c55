import DudaoCore

/// `preschool.census`: one kindergarten's classes and staff in the autumn term.
extension FeedValidator {
    static let preschoolCensusFields = [
        "institution_id", "year", "classes", "full_time_teachers", "caregivers", "staff_total",
        "certified_teachers", "disabled_children_certified", "as_of",
    ]
    static let preschoolClassFields = ["class_id", "level", "children", "teachers", "caregivers"]
    /// Values of a preschool class's `level`.
    static let preschoolClassLevels = ["small", "middle", "large", "mixed"]
    /// Most children or students one class may report.
    static let maxClassSize: Int64 = 200

    static func preschoolCensus(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .preschoolCensus, fields: preschoolCensusFields)
        let institutionID = try reader.identifier("institution_id")
        let year = try reader.year()
        let classes = try reader.objects("classes", allowed: preschoolClassFields, subject: Expected(en: "a preschool.census class", zh: "幼儿园普查（preschool.census）班级"))
        var classIDs = ClassIDs()
        for row in classes {
            try classIDs.insert(try row.identifier("class_id"), of: row)
            _ = try row.choice("level", among: preschoolClassLevels)
            _ = try row.integer("children", in: 0...maxClassSize)
            _ = try row.count("teachers")
            _ = try row.count("caregivers")
        }
        let fullTimeTeachers = try reader.count("full_time_teachers")
        _ = try reader.count("caregivers")
        _ = try reader.count("staff_total")
        let certified = try reader.count("certified_teachers")
        try reader.requireNotAbove("certified_teachers", certified, "full_time_teachers", fullTimeTeachers)
        _ = try reader.count("disabled_children_certified")
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(
            type: .preschoolCensus, key: key(institutionID, year), asOf: asOf, body: body,
            references: [.institution(id: institutionID, path: "body.institution_id", levels: [.kindergarten])],
            institutionID: institutionID)
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
