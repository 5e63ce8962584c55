/// The feed types integrators send to `dudao-ingest` (SPEC section 3), spelled as on the wire.
public enum FeedType: String, Sendable, CaseIterable {
    /// A town or street (镇/街) and its name.
    case registryTown = "registry.town"
    /// A school or kindergarten: its town, level and ownership.
    case registryInstitution = "registry.institution"
    /// Resident children aged 3, 4 and 5 in one town, one year.
    case populationCohort = "population.cohort"
    /// One kindergarten's classes and staff in the autumn term of a year.
    case preschoolCensus = "preschool.census"
    /// One compulsory-education institution's students and classes in a year.
    case compulsoryCensus = "compulsory.census"
    /// City-wide nine-year retention figures of a year.
    case compulsoryRetention = "compulsory.retention"
    /// City-wide figures on disabled children of a year.
    case specialPopulation = "special.population"
    /// City-wide education finance of a year.
    case financeYear = "finance.year"
    /// City-wide satisfaction survey of a year.
    case surveyRecognition = "survey.recognition"
    /// City-wide teacher talent figures of a year.
    case talentYear = "talent.year"
    /// One construction project's progress.
    case projectProgress = "project.progress"
    /// One institution's safety systems (alarms, CCTV link, closed management, guards).
    case safetyInventory = "safety.inventory"
    /// One device's liveness report.
    case safetyHeartbeat = "safety.heartbeat"
    /// A one-key alarm (一键报警) was pressed.
    case safetyAlarm = "safety.alarm"

    /// Whether records of this type change the ``Registry`` (a town or an institution).
    public var isRegistry: Bool { self == .registryTown || self == .registryInstitution }

    /// The type named `rawValue`, looked up in a table: the synthesized initializer compares the
    /// name with each case in turn, about 2 000 instructions for every feed.
    public init?(rawValue: String) {
        guard let type = Self.byName[rawValue] else { return nil }
        self = type
    }

    private static let byName: [String: FeedType] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })
}
