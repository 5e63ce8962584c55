import DudaoCore

/// The plan's indicators, read from a catalog file (`deploy/catalog/enping-2023-2025.json`).
///
/// The file declares every indicator with its targets, scopes, clause, departments and
/// formula, so a county with a similar plan edits the file, not the code. A file with an
/// unknown member, a bad formula, an unknown feed type or feed field is refused with a
/// ``CatalogError`` naming the line of the offending indicator.
public struct Catalog: Sendable {
    /// The file's `name`, else the name it was loaded under.
    public var name: String
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

    /// Parses catalog JSON; `name` is used in error messages.
    public static func parse(_ bytes: [UInt8], name: String) throws(CatalogError) -> Catalog {
        let lines = CatalogLines(bytes)
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw CatalogError(file: name, line: lines.line(at: error.offset), indicator: nil, message: error.reason)
        }
        var reader = CatalogReader(file: name, lines: lines)
        return try reader.read(root)
    }

    /// The indicator with `id`.
    public func indicator(_ id: String) -> IndicatorDefinition? {
        indicators.first { $0.id == id }
    }

    init(name: String, indicators: [IndicatorDefinition], aggregates: [Aggregate]) {
        self.name = name
        self.indicators = indicators
        self.aggregates = aggregates
    }
}
