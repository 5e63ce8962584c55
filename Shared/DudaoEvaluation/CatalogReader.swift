import DudaoCore

/// Reads the top level and the indicators of a parsed catalog, attaching line numbers to
/// every problem.
struct CatalogReader {
    let file: String
    let lines: CatalogLines
    var plan = PlanBuilder()
    /// The catalog's `name`, known before the indicators are read (they carry it).
    var catalogName = ""

    static let topMembers = ["name", "title_zh", "description", "default_at_risk_margin", "departments", "indicators"]
    static let indicatorMembers = [
        "id", "name_zh", "name_en", "unit", "op", "targets", "target", "scopes", "clause", "departments",
        "at_risk_margin", "formula", "note", "gap", "forecast",
    ]

    init(file: String, lines: CatalogLines, plan: PlanBuilder = PlanBuilder()) {
        self.file = file
        self.lines = lines
        self.plan = plan
    }

    func fail(_ message: String, member: String? = nil) -> CatalogError {
        CatalogError(file: file, line: member.map(lines.memberLine) ?? 1, indicator: nil, message: message)
    }

    mutating func read(_ root: JSONValue) throws(CatalogError) -> Catalog {
        guard case .object(let top) = root else { throw fail("the catalog must be a JSON object") }
        for member in top.members where !CatalogReader.topMembers.contains(member.key) {
            throw fail(
                "unknown top-level member \"\(member.key)\"; allowed: \(CatalogReader.topMembers.joined(separator: ", "))",
                member: member.key)
        }
        let name = top["name"]?.stringValue ?? file
        catalogName = name
        let margins = try defaultMargins(top["default_at_risk_margin"])
        var departments = Catalog.defaultDepartments
        if let value = top["departments"] {
            guard let list = value.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue?.isEmpty == false }) else {
                throw fail("departments must be a non-empty array of department ids", member: "departments")
            }
            departments = list.compactMap(\.stringValue)
        }
        guard let elements = top["indicators"]?.arrayValue else {
            throw fail("the catalog needs \"indicators\": an array of indicator objects", member: "indicators")
        }
        var indicators: [IndicatorDefinition] = []
        var seen: Set<String> = []
        for (index, element) in elements.enumerated() {
            let line = lines.indicatorLine(index)
            let id = element["id"]?.stringValue
            do throws(CatalogIssue) {
                let indicator = try self.indicator(element, line: line, margins: margins, departments: departments)
                guard seen.insert(indicator.id).inserted else {
                    throw CatalogIssue("id \"\(indicator.id)\" is declared twice")
                }
                indicators.append(indicator)
            } catch {
                throw CatalogError(file: file, line: line, indicator: id, message: error.message)
            }
        }
        var catalog = Catalog(name: name, indicators: indicators, aggregates: plan.aggregates)
        catalog.titles[name] = top["title_zh"]?.stringValue ?? name
        return catalog
    }


    /// `default_at_risk_margin`: one number for every unit, or an object of numbers by unit.
    func defaultMargins(_ value: JSONValue?) throws(CatalogError) -> (all: Double?, byUnit: [String: Double]) {
        guard let value else { return (nil, [:]) }
        if let number = value.doubleValue, number >= 0 { return (number, [:]) }
        guard case .object(let object) = value else {
            throw fail("default_at_risk_margin must be a number >= 0 or an object of numbers by unit", member: "default_at_risk_margin")
        }
        var byUnit: [String: Double] = [:]
        for member in object.members {
            guard let number = member.value.doubleValue, number >= 0 else {
                throw fail("default_at_risk_margin.\(member.key) must be a number >= 0", member: "default_at_risk_margin")
            }
            byUnit[member.key] = number
        }
        return (nil, byUnit)
    }

    mutating func indicator(
        _ value: JSONValue, line: Int, margins: (all: Double?, byUnit: [String: Double]), departments known: [String]
    ) throws(CatalogIssue) -> IndicatorDefinition {
        let object = try CatalogObject(value, "the indicator", allowed: CatalogReader.indicatorMembers)
        let id = try object.string("id")
        let unit = try object.string("unit")
        let op: String?
        switch object.object["op"] {
        case nil, .null?: op = nil
        case .string(let text)? where text == ">=" || text == "<=": op = text
        case let other?: throw CatalogIssue("op must be \">=\", \"<=\" or null, got \(describe(other))")
        }
        let target = try targetRule(object)
        if op == nil, target != .none {
            throw CatalogIssue("targets need an op (\">=\" or \"<=\"); a tracked indicator has neither")
        }
        var scopes: Set<ScopeKind> = []
        for text in try object.strings("scopes") {
            guard let kind = ScopeKind(rawValue: text) else {
                throw CatalogIssue("scopes: \"\(text)\" is not a scope; use city, town, institution")
            }
            scopes.insert(kind)
        }
        guard !scopes.isEmpty else { throw CatalogIssue("scopes must list at least one of city, town, institution") }
        let departments = try object.strings("departments")
        for department in departments where !known.contains(department) {
            throw CatalogIssue("departments: \"\(department)\" is not a department; use \(known.joined(separator: ", "))")
        }
        if known.contains("education"), !departments.contains("education") {
            throw CatalogIssue("departments must include \"education\" (it coordinates every indicator)")
        }
        let margin = try object.optionalNumber("at_risk_margin") ?? margins.all ?? margins.byUnit[unit] ?? 0
        guard margin >= 0 else { throw CatalogIssue("at_risk_margin must be >= 0") }
        let formula = try object.required("formula")
        let compiled = try plan.formula(formula, scopes: scopes)
        var gap: GapRule?
        if let value = object.object["gap"] {
            guard op != nil else { throw CatalogIssue("gap is for an indicator with an op (>= or <=)") }
            let rule = try GapRule(value)
            switch (compiled, rule.solve) {
            case (.ratio, .value): throw CatalogIssue("gap.solve value is for a single figure; a ratio solves numerator, numerator_within or denominator")
            case (.aggregate, .numerator), (.aggregate, .numeratorWithin), (.aggregate, .denominator):
                throw CatalogIssue("gap.solve \(rule.solve.rawValue) is for a ratio; a single figure solves value")
            default: gap = rule
            }
        }
        var forecast: ForecastRule?
        if let value = object.object["forecast"] {
            guard case .ratio = compiled else { throw CatalogIssue("forecast is for a ratio") }
            forecast = try ForecastRule(value)
        }
        return IndicatorDefinition(
            id: id, catalog: catalogName, nameZh: try object.string("name_zh"), nameEn: try object.string("name_en"), unit: unit, op: op,
            target: target, scopes: scopes, clause: try object.string("clause"), departments: departments,
            atRiskMargin: margin, formula: formula, gap: gap, forecast: forecast, line: line, compiled: compiled)
    }

    func targetRule(_ object: CatalogObject) throws(CatalogIssue) -> TargetRule {
        let targets = object.object["targets"]
        let target = object.object["target"]
        if targets != nil, target != nil { throw CatalogIssue("give either \"targets\" or \"target\", not both") }
        if let target {
            guard target == .string("previous_year") else {
                throw CatalogIssue("target must be \"previous_year\" (use \"targets\" for numbers by year), got \(describe(target))")
            }
            return .previousYear
        }
        guard let targets, targets != .null else { return .none }
        guard case .object(let byYear) = targets, byYear.count > 0 else {
            throw CatalogIssue("targets must be an object of numbers by year, e.g. {\"2023\": 100}")
        }
        var result: [YearTarget] = []
        for member in byYear.members {
            guard member.key.utf8.count == 4, let year = Int(member.key), (2000...2100).contains(year) else {
                throw CatalogIssue("targets: \"\(member.key)\" is not a year from 2000 to 2100")
            }
            guard let number = member.value.doubleValue, number.isFinite else {
                throw CatalogIssue("targets.\(member.key) must be a number, got \(describe(member.value))")
            }
            result.append(YearTarget(year: year, value: number))
        }
        return .byYear(result.sorted { $0.year < $1.year })
    }
}
