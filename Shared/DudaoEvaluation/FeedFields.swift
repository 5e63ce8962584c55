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

    /// The schema of `type`: its fields as the validator declares them (``FeedSheet``, whose
    /// names, order and choices come from the validator's own lists), read as formulas see them.
    static func schema(_ type: FeedType) -> FeedSchema { schemas[type.ordinal] }

    private static let schemas: [FeedSchema] = FeedType.allCases.sorted { $0.ordinal < $1.ordinal }.map(derive)

    static func derive(_ type: FeedType) -> FeedSchema {
        let sheet = FeedSheet.of(type)
        var fields: [String: FieldKind] = [:]
        var nested: [String: [String: FieldKind]] = [:]
        for column in sheet.columns {
            let parts = column.field.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                nested[parts[0], default: [:]][parts[1]] = kind(column.kind)
            } else {
                fields[column.field] = kind(column.kind)
            }
        }
        for (name, inner) in nested { fields[name] = name == sheet.rowsField ? .objects(inner) : .object(inner) }
        return FeedSchema(fields: fields, yearly: fields["year"] != nil, binding: binding(type))
    }

    static func kind(_ kind: ColumnKind) -> FieldKind {
        switch kind {
        case .integer, .number: .number
        case .identifier, .text, .date, .timestamp: free
        case .choice(let values): .text(choices: values)
        case .bool: .bool
        case .identifiers: .identifiers
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
