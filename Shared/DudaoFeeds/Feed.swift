import DudaoCore

/// A feed body decoded into its type's value: what ``FeedValidator`` returns and what every
/// consumer (the ingest's store and registry, the indicators, the safety engine, the fuzz
/// targets) reads instead of the body's members. The key, `as_of`, the references and the
/// town or institution a record belongs to are worked out here, once.
public enum Feed: Sendable, Equatable {
    case registryTown(RegistryTown)
    case registryInstitution(RegistryInstitution)
    case populationCohort(PopulationCohort)
    case preschoolCensus(PreschoolCensus)
    case compulsoryCensus(CompulsoryCensus)
    case compulsoryRetention(CompulsoryRetention)
    case specialPopulation(SpecialPopulation)
    case financeYear(FinanceYear)
    case surveyRecognition(SurveyRecognition)
    case talentYear(TalentYear)
    case projectProgress(ProjectProgress)
    case safetyInventory(SafetyInventory)
    case safetyHeartbeat(Heartbeat)
    case safetyAlarm(Alarm)

    /// The wire type.
    public var type: FeedType {
        switch self {
        case .registryTown: .registryTown
        case .registryInstitution: .registryInstitution
        case .populationCohort: .populationCohort
        case .preschoolCensus: .preschoolCensus
        case .compulsoryCensus: .compulsoryCensus
        case .compulsoryRetention: .compulsoryRetention
        case .specialPopulation: .specialPopulation
        case .financeYear: .financeYear
        case .surveyRecognition: .surveyRecognition
        case .talentYear: .talentYear
        case .projectProgress: .projectProgress
        case .safetyInventory: .safetyInventory
        case .safetyHeartbeat: .safetyHeartbeat
        case .safetyAlarm: .safetyAlarm
        }
    }

    /// Canonical upsert key: the key fields of SPEC section 3 joined with "|" in the table's
    /// order, e.g. "dongcheng|2025" for population.cohort, "2025" for year-keyed feeds,
    /// "dev-1|<at as Timestamp.millis>" for safety.alarm.
    public var key: String {
        switch self {
        case .registryTown(let town): town.townID
        case .registryInstitution(let institution): institution.institutionID
        case .populationCohort(let cohort): Feed.key(cohort.townID, cohort.year)
        case .preschoolCensus(let census): Feed.key(census.institutionID, census.year)
        case .compulsoryCensus(let census): Feed.key(census.institutionID, census.year)
        case .compulsoryRetention(let feed): String(feed.year)
        case .specialPopulation(let feed): String(feed.year)
        case .financeYear(let feed): String(feed.year)
        case .surveyRecognition(let feed): String(feed.year)
        case .talentYear(let feed): String(feed.year)
        case .projectProgress(let project): project.projectID
        case .safetyInventory(let inventory): inventory.institutionID
        case .safetyHeartbeat(let heartbeat): heartbeat.deviceID
        case .safetyAlarm(let alarm): Feed.key(alarm.deviceID, alarm.at.millis)
        }
    }

    /// `as_of` (or `at` for safety.heartbeat / safety.alarm); nil = the receiver uses the time
    /// of receipt.
    public var asOf: Timestamp? {
        switch self {
        case .registryTown(let feed): feed.asOf
        case .registryInstitution(let feed): feed.asOf
        case .populationCohort(let feed): feed.asOf
        case .preschoolCensus(let feed): feed.asOf
        case .compulsoryCensus(let feed): feed.asOf
        case .compulsoryRetention(let feed): feed.asOf
        case .specialPopulation(let feed): feed.asOf
        case .financeYear(let feed): feed.asOf
        case .surveyRecognition(let feed): feed.asOf
        case .talentYear(let feed): feed.asOf
        case .projectProgress(let feed): feed.asOf
        case .safetyInventory(let feed): feed.asOf
        case .safetyHeartbeat(let feed): feed.at
        case .safetyAlarm(let feed): feed.at
        }
    }

    /// The reporting year of year-keyed and census feeds; nil for the others.
    public var year: Int64? {
        switch self {
        case .populationCohort(let feed): feed.year
        case .preschoolCensus(let feed): feed.year
        case .compulsoryCensus(let feed): feed.year
        case .compulsoryRetention(let feed): feed.year
        case .specialPopulation(let feed): feed.year
        case .financeYear(let feed): feed.year
        case .surveyRecognition(let feed): feed.year
        case .talentYear(let feed): feed.year
        case .registryTown, .registryInstitution, .projectProgress, .safetyInventory, .safetyHeartbeat, .safetyAlarm: nil
        }
    }

    /// The town the record names directly (registry.town, registry.institution,
    /// population.cohort), else nil; for access control by town.
    public var townID: String? {
        switch self {
        case .registryTown(let feed): feed.townID
        case .registryInstitution(let feed): feed.townID
        case .populationCohort(let feed): feed.townID
        default: nil
        }
    }

    /// The institution the record belongs to (census, inventory, heartbeat, alarm,
    /// registry.institution), else nil.
    public var institutionID: String? {
        switch self {
        case .registryInstitution(let feed): feed.institutionID
        case .preschoolCensus(let feed): feed.institutionID
        case .compulsoryCensus(let feed): feed.institutionID
        case .safetyInventory(let feed): feed.institutionID
        case .safetyHeartbeat(let feed): feed.institutionID
        case .safetyAlarm(let feed): feed.institutionID
        default: nil
        }
    }

    /// What must already be registered for the feed to be accepted.
    public var references: [FeedReference] {
        switch self {
        case .registryInstitution(let feed): [.town(id: feed.townID, path: "body.town_id")]
        case .populationCohort(let feed): [.town(id: feed.townID, path: "body.town_id")]
        case .preschoolCensus(let feed):
            [.institution(id: feed.institutionID, path: "body.institution_id", levels: [.kindergarten])]
        case .compulsoryCensus(let feed):
            [.institution(id: feed.institutionID, path: "body.institution_id", levels: FeedValidator.compulsoryLevels)]
        case .safetyInventory(let feed): [.institution(id: feed.institutionID, path: "body.institution_id", levels: nil)]
        case .safetyHeartbeat(let feed): [.institution(id: feed.institutionID, path: "body.institution_id", levels: nil)]
        case .safetyAlarm(let feed): [.institution(id: feed.institutionID, path: "body.institution_id", levels: nil)]
        case .registryTown, .compulsoryRetention, .specialPopulation, .financeYear, .surveyRecognition, .talentYear,
            .projectProgress:
            []
        }
    }

    /// The `"<first>|<second>"` key.
    static func key(_ first: String, _ second: Int64) -> String { first + "|" + String(second) }
}
