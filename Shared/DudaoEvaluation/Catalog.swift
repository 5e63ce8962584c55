import DudaoCore
import DudaoFeeds

/// The plan's indicators, read from a catalog file (`deploy/catalog/enping-2023-2025.json`).
///
/// The file declares every indicator with its targets, scopes, clause, departments and
/// formula, so a county with a similar plan edits the file, not the code. A file with an
/// unknown member, a bad formula, an unknown feed type or feed field is refused with a
/// ``CatalogError`` naming the line of the offending indicator.
public struct Catalog: Sendable {
    /// The file's `name`, else the name it was loaded under; of the first file when several are
    /// loaded together (the primary catalog: the plan).
    public var name: String
    /// The names of the catalogs loaded together, primary first.
    public private(set) var names: [String]
    /// Each catalog's `title_zh` (its name when it has none), for what people read.
    public internal(set) var titles: [String: String] = [:]
    /// The indicators, in file order.
    public private(set) var indicators: [IndicatorDefinition]
    /// Every aggregate the formulas read, shared between indicators.
    let aggregates: [Aggregate]

    /// Department ids of INDICATORS.md's table, used when the file does not list its own.
    public static let defaultDepartments = [
        "education", "police", "finance", "staffing", "hr", "natural_resources", "housing", "development",
        "disabled_federation",
    ]

    /// Reads and parses the catalog file at `path`.
    public static func load(path: String) throws(CatalogError) -> Catalog {
        guard let bytes = CatalogFile.read(path) else {
            throw CatalogError(file: path, line: 0, indicator: nil, message: "cannot read the catalog file")
        }
        return try parse(bytes, name: path)
    }

    /// Reads several catalog files as one (the plan's and the national assessment's): their
    /// indicators side by side, each naming its catalog, ids unique across all of them. The
    /// first is the primary catalog, what queries answer when they name none.
    public static func load(paths: [String]) throws(CatalogError) -> Catalog {
        var files: [(bytes: [UInt8], name: String)] = []
        for path in paths {
            guard let bytes = CatalogFile.read(path) else {
                throw CatalogError(file: path, line: 0, indicator: nil, message: "cannot read the catalog file")
            }
            files.append((bytes, path))
        }
        return try parse(files)
    }

    /// Parses catalog JSON; `name` is used in error messages.
    public static func parse(_ bytes: [UInt8], name: String) throws(CatalogError) -> Catalog {
        try parse([(bytes, name)])
    }

    /// Parses catalog files read together (``load(paths:)``); the names are used in error messages.
    public static func parse(_ files: [(bytes: [UInt8], name: String)]) throws(CatalogError) -> Catalog {
        var plan = PlanBuilder()
        var indicators: [IndicatorDefinition] = []
        var names: [String] = []
        var titles: [String: String] = [:]
        var declared: [String: String] = [:]
        for (bytes, file) in files {
            let lines = CatalogLines(bytes)
            let root: JSONValue
            do {
                root = try JSONParser.parse(bytes)
            } catch {
                throw CatalogError(file: file, line: lines.line(at: error.offset), indicator: nil, message: error.reason)
            }
            var reader = CatalogReader(file: file, lines: lines, plan: plan)
            let part = try reader.read(root)
            plan = reader.plan
            guard !names.contains(part.name) else {
                throw CatalogError(file: file, line: 1, indicator: nil, message: "a catalog named \"\(part.name)\" is loaded already")
            }
            for indicator in part.indicators {
                if let other = declared[indicator.id] {
                    throw CatalogError(
                        file: file, line: indicator.line, indicator: indicator.id,
                        message: "id \"\(indicator.id)\" is declared in catalog \"\(other)\" already; ids are unique across the catalogs")
                }
                declared[indicator.id] = part.name
            }
            names.append(part.name)
            titles[part.name] = part.titles[part.name]
            indicators += part.indicators
        }
        var catalog = Catalog(name: names.first ?? "", indicators: indicators, aggregates: plan.aggregates)
        catalog.names = names
        catalog.titles = titles
        return catalog
    }

    /// The feed types indicator `id`'s formula reads (empty for an unknown id).
    public func feeds(of id: String) -> Set<FeedType> {
        guard let indicator = indicator(id) else { return [] }
        return Set(indicator.compiled.aggregates.map { aggregates[$0].feed })
    }

    /// The indicators of catalog `name`, in file order.
    public func indicators(of name: String) -> [IndicatorDefinition] { indicators.filter { $0.catalog == name } }

    /// The indicator with `id`.
    public func indicator(_ id: String) -> IndicatorDefinition? {
        indicators.first { $0.id == id }
    }

    init(name: String, indicators: [IndicatorDefinition], aggregates: [Aggregate]) {
        self.name = name
        self.names = [name]
        self.indicators = indicators
        self.aggregates = aggregates
    }
}
