import DudaoService
import DudaoStorage
import DudaoWire

/// `dudao-indicators`' settings (deploy/indicators.json; environment overrides `DUDAO_INDICATORS_*`).
struct IndicatorsConfig: FrameServiceSettings {
    static let service = "dudao-indicators"
    static let environmentPrefix = "DUDAO_INDICATORS_"

    var basics: FrameServiceBasics
    /// `database`: a SQLite file (the default) or a `postgres://` URL.
    var store: StoreLocation
    var catalogPath: String
    /// Catalogs evaluated beside the plan's (the national assessment criteria), each naming its
    /// indicators' `catalog`.
    var extraCatalogPaths: [String]
    /// Which feeds institutions owe and by when (ReportingSchedule); nil: no completeness.
    var reportingPath: String?
    /// How often reports not sent are checked for reminders and alerts.
    var reportingCheckSeconds: Double
    /// The plan's catalog first, then the others.
    var catalogPaths: [String] { [catalogPath] + extraCatalogPaths }
    var ingest: Endpoint
    /// `ingest.failover`: more ingest instances on the same PostgreSQL database.
    var ingestFailover: [(host: String, port: Int)]
    var notify: Endpoint
    /// Years whose transitions raise alerts when a record without a year (projects, inventories,
    /// the registry) changes; `0` = the current calendar year.
    var currentYear: Int

    init(file: ConfigFile) throws(ConfigError) {
        basics = try FrameServiceBasics(file: file, defaultPort: 7402, defaultInFlight: 64)
        store = try file.store(default: "data/indicators.sqlite")
        catalogPath = try file.filePath("catalog", default: "catalog/enping-2023-2025.json")
        extraCatalogPaths = try file.strings("extra_catalogs").map(file.resolve)
        reportingPath = try file.optionalFilePath("reporting_file")
        reportingCheckSeconds = max(0.1, try file.double("reporting_check_seconds", default: 3600))
        ingest = try file.endpoint("ingest", defaultPort: 7401)
        ingestFailover = try file.failover("ingest")
        notify = try file.endpoint("notify", defaultPort: 7404)
        currentYear = try file.int("current_year", default: 0, range: 0...2100)
        // Last: anything in the file or the environment not read above is a typo.
        try file.checkUnknownKeys()
    }
}
