import DudaoFeeds

/// What one body field of a feed holds (SPEC section 3), as far as formulas care.
indirect enum FieldKind: Sendable, Equatable {
    /// A count or an amount of money.
    case number
    /// A string; `choices` lists the allowed values of an enumeration (nil = free text).
    case text(choices: [String]?)
    case bool
    /// An array of identifiers (`alarm_devices`).
    case identifiers
    /// An array of objects with these fields (`classes`).
    case objects([String: FieldKind])
    /// A nested object with these fields (`studios`).
    case object([String: FieldKind])

    /// How a catalog error names the kind.
    var label: String {
        switch self {
        case .number: "a number"
        case .text(let choices): choices.map { "one of " + $0.joined(separator: ", ") } ?? "a string"
        case .bool: "a boolean"
        case .identifiers: "an array of identifiers"
        case .objects: "an array of objects"
        case .object: "an object"
        }
    }
}

/// What a feed's records are attached to, which decides the scopes they count in.
enum FeedBinding: Sendable, Equatable {
    /// `institution_id` names a registered institution: city, its town, the institution.
    case institution
    /// `town_id` names a town: city and that town.
    case town
    /// City-wide records (year figures, projects): the city only.
    case city
}

/// The body fields of one feed type, as SPEC section 3 lists them.
struct FeedSchema: Sendable {
    var fields: [String: FieldKind]
    /// Whether records carry `year` and count for that year only.
    var yearly: Bool
    var binding: FeedBinding
}

/// The field lists of SPEC section 3, which catalog formulas are checked against.
enum FeedFields {
    static let levels = InstitutionLevel.allCases.map(\.rawValue)
    static let ownerships = Ownership.allCases.map(\.rawValue)

    /// `institution.<name>`: the attributes of a record's registered institution.
    static let institutionAttributes: [String: FieldKind] = [
        "level": .text(choices: levels),
        "ownership": .text(choices: ownerships),
        "town_central": .bool,
        "town_id": .text(choices: nil),
    ]

    static let free = FieldKind.text(choices: nil)

    /// The schema of `type`.
    static func schema(_ type: FeedType) -> FeedSchema {
        switch type {
        case .registryTown:
            FeedSchema(
                fields: ["town_id": free, "name": free, "kind": .text(choices: ["town", "street"]), "as_of": free],
                yearly: false, binding: .town)
        case .registryInstitution:
            FeedSchema(
                fields: [
                    "institution_id": free, "name": free, "town_id": free, "level": .text(choices: levels),
                    "ownership": .text(choices: ownerships), "town_central": .bool, "as_of": free,
                ], yearly: false, binding: .institution)
        case .populationCohort:
            FeedSchema(
                fields: [
                    "town_id": free, "year": .number, "age_3": .number, "age_4": .number, "age_5": .number,
                    "as_of": free,
                ], yearly: true, binding: .town)
        case .preschoolCensus:
            FeedSchema(
                fields: [
                    "institution_id": free, "year": .number,
                    "classes": .objects([
                        "class_id": free, "level": .text(choices: ["small", "middle", "large", "mixed"]),
                        "children": .number, "teachers": .number, "caregivers": .number,
                    ]),
                    "full_time_teachers": .number, "caregivers": .number, "staff_total": .number,
                    "certified_teachers": .number, "disabled_children_certified": .number, "as_of": free,
                ], yearly: true, binding: .institution)
        case .compulsoryCensus:
            FeedSchema(
                fields: [
                    "institution_id": free, "year": .number, "students": .number, "migrant_students": .number,
                    "classes": .objects(["class_id": free, "grade": .number, "students": .number]), "as_of": free,
                ], yearly: true, binding: .institution)
        case .compulsoryRetention:
            FeedSchema(
                fields: ["year": .number, "grade9_students": .number, "cohort_entrants": .number, "as_of": free],
                yearly: true, binding: .city)
        case .specialPopulation:
            FeedSchema(
                fields: [
                    "year": .number, "disabled_school_age": .number, "enrolled": .number, "home_delivered": .number,
                    "disabled_preschool_age_certified": .number, "as_of": free,
                ], yearly: true, binding: .city)
        case .financeYear:
            FeedSchema(
                fields: [
                    "year": .number, "preschool_fiscal_wan": .number, "education_fiscal_wan": .number,
                    "public_kg_per_pupil_yuan": .number, "inclusive_private_subsidy_yuan": .number, "as_of": free,
                ], yearly: true, binding: .city)
        case .surveyRecognition:
            FeedSchema(
                fields: ["year": .number, "respondents": .number, "satisfied": .number, "as_of": free],
                yearly: true, binding: .city)
        case .talentYear:
            FeedSchema(
                fields: [
                    "year": .number, "county_famous_teachers": .number, "city_excellent_teachers": .number,
                    "studios": .object(["provincial": .number, "city": .number, "county": .number]), "as_of": free,
                ], yearly: true, binding: .city)
        case .projectProgress:
            FeedSchema(
                fields: [
                    "project_id": free, "name": free, "kind": .text(choices: ["kindergarten", "primary", "junior"]),
                    "seats_planned": .number, "seats_delivered": .number, "investment_planned_wan": .number,
                    "invested_wan": .number, "due": free, "status": .text(choices: ["planned", "building", "done"]),
                    "as_of": free,
                ], yearly: false, binding: .city)
        case .safetyInventory:
            FeedSchema(
                fields: [
                    "institution_id": free, "alarm_devices": .identifiers, "cctv_police_linked": .bool,
                    "cameras": .number, "cameras_linked": .number, "closed_management": .bool,
                    "guards_required": .number, "guards_full_time": .number, "as_of": free,
                ], yearly: false, binding: .institution)
        case .safetyHeartbeat:
            FeedSchema(
                fields: [
                    "device_id": free, "institution_id": free, "device_kind": .text(choices: ["alarm", "cctv_link"]),
                    "at": free, "status": .text(choices: ["ok", "fault"]),
                ], yearly: false, binding: .institution)
        case .safetyAlarm:
            FeedSchema(
                fields: ["device_id": free, "institution_id": free, "at": free, "note": free],
                yearly: false, binding: .institution)
        }
    }

    /// What records of `type` are attached to (cheap: no schema is built).
    static func binding(_ type: FeedType) -> FeedBinding {
        switch type {
        case .registryTown, .populationCohort: .town
        case .registryInstitution, .preschoolCensus, .compulsoryCensus, .safetyInventory, .safetyHeartbeat, .safetyAlarm:
            .institution
        case .compulsoryRetention, .specialPopulation, .financeYear, .surveyRecognition, .talentYear, .projectProgress:
            .city
        }
    }

    /// The fields that identify a record of `type` in contributor rows.
    static func identity(_ type: FeedType) -> [String] {
        switch type {
        case .registryTown, .populationCohort: ["town_id"]
        case .projectProgress: ["project_id"]
        case .safetyHeartbeat, .safetyAlarm: ["device_id", "institution_id"]
        case .compulsoryRetention, .specialPopulation, .financeYear, .surveyRecognition, .talentYear: ["year"]
        case .registryInstitution, .preschoolCensus, .compulsoryCensus, .safetyInventory: ["institution_id"]
        }
    }
}

extension FeedType {
    /// A dense index for per-type tables.
    var ordinal: Int {
        switch self {
        case .registryTown: 0
        case .registryInstitution: 1
        case .populationCohort: 2
        case .preschoolCensus: 3
        case .compulsoryCensus: 4
        case .compulsoryRetention: 5
        case .specialPopulation: 6
        case .financeYear: 7
        case .surveyRecognition: 8
        case .talentYear: 9
        case .projectProgress: 10
        case .safetyInventory: 11
        case .safetyHeartbeat: 12
        case .safetyAlarm: 13
        }
    }

    /// Number of feed types (the size of per-type tables).
    static let ordinalCount = 14
}
