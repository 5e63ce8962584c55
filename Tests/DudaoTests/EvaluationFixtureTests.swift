import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import Foundation
import Testing

/// Helpers shared by the evaluation tests: the real catalog, record building, engines.
enum EvaluationFixture {
    /// The repository root, from this file's path (Tests/DudaoTests/...).
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let catalogPath = repoRoot + "/deploy/catalog/enping-2023-2025.json"

    /// The default catalog file, loaded once.
    static let catalog: Catalog = {
        do { return try Catalog.load(path: catalogPath) } catch { fatalError("catalog: \(error)") }
    }()

    /// Parses a JSON object literal.
    static func object(_ text: String) -> JSONObject {
        guard case .object(let object)? = try? JSONParser.parse(text) else { fatalError("not an object: \(text)") }
        return object
    }

    /// The upsert key FeedValidator computes (the body must be a valid feed).
    static func key(_ type: FeedType, _ body: JSONObject) throws -> String {
        switch FeedValidator.validate(type, body: body) {
        case .success(let feed): return feed.key
        case .failure(let error): throw error
        }
    }

    /// A fresh engine on the default catalog with `records` applied in order.
    static func engine(_ records: [(FeedType, JSONObject)], catalog: Catalog = EvaluationFixture.catalog) throws
        -> IndicatorEngine
    {
        let engine = IndicatorEngine(catalog: catalog)
        for (type, body) in records { engine.apply(type: type, key: try key(type, body), body: body) }
        return engine
    }

    /// Every result of every scope the engine knows (city, towns, given institutions) for `years`.
    static func snapshot(_ engine: IndicatorEngine, years: [Int], institutions: [String], now: Timestamp)
        -> [String: [IndicatorResult]]
    {
        var result: [String: [IndicatorResult]] = [:]
        let scopes = [Scope.city] + engine.towns.map(Scope.town) + institutions.map(Scope.institution)
        for year in years {
            for scope in scopes { result["\(year) \(scope.text)"] = engine.evaluate(year: year, scope: scope, now: now) }
        }
        return result
    }

    // MARK: - Record builders

    static func town(_ id: String, kind: String = "town") -> (FeedType, JSONObject) {
        (.registryTown, ["town_id": .string(id), "name": .string("镇 " + id), "kind": .string(kind)])
    }

    static func institution(
        _ id: String, town: String, level: String = "kindergarten", ownership: String = "public", central: Bool = false
    ) -> (FeedType, JSONObject) {
        var body: JSONObject = [
            "institution_id": .string(id), "name": .string("园 " + id), "town_id": .string(town), "level": .string(level),
            "ownership": .string(ownership),
        ]
        if central { body["town_central"] = true }
        return (.registryInstitution, body)
    }

    static func cohort(_ town: String, _ year: Int64, _ a3: Int64, _ a4: Int64, _ a5: Int64) -> (FeedType, JSONObject) {
        (.populationCohort, ["town_id": .string(town), "year": .int(year), "age_3": .int(a3), "age_4": .int(a4), "age_5": .int(a5)])
    }

    /// A class row: (class_id, level, children, teachers, caregivers).
    typealias PreschoolClass = (id: String, level: String, children: Int64, teachers: Int64, caregivers: Int64)

    static func census(
        _ id: String, _ year: Int64, _ classes: [PreschoolClass], teachers: Int64, caregivers: Int64, staff: Int64,
        certified: Int64, disabled: Int64 = 0
    ) -> (FeedType, JSONObject) {
        let rows: [JSONValue] = classes.map {
            [
                "class_id": .string($0.id), "level": .string($0.level), "children": .int($0.children),
                "teachers": .int($0.teachers), "caregivers": .int($0.caregivers),
            ]
        }
        return (
            .preschoolCensus,
            [
                "institution_id": .string(id), "year": .int(year), "classes": .array(rows), "full_time_teachers": .int(teachers),
                "caregivers": .int(caregivers), "staff_total": .int(staff), "certified_teachers": .int(certified),
                "disabled_children_certified": .int(disabled),
            ]
        )
    }

    static func compulsory(_ id: String, _ year: Int64, students: Int64, migrants: Int64, classes: [(String, Int64, Int64)])
        -> (FeedType, JSONObject)
    {
        let rows: [JSONValue] = classes.map { ["class_id": .string($0.0), "grade": .int($0.1), "students": .int($0.2)] }
        return (
            .compulsoryCensus,
            [
                "institution_id": .string(id), "year": .int(year), "students": .int(students),
                "migrant_students": .int(migrants), "classes": .array(rows),
            ]
        )
    }

    static func inventory(
        _ id: String, devices: [String], linked: Bool, closed: Bool, required: Int64, guards: Int64
    ) -> (FeedType, JSONObject) {
        (
            .safetyInventory,
            [
                "institution_id": .string(id), "alarm_devices": .array(devices.map(JSONValue.string)),
                "cctv_police_linked": .bool(linked), "cameras": 10, "cameras_linked": .int(linked ? 10 : 0),
                "closed_management": .bool(closed), "guards_required": .int(required), "guards_full_time": .int(guards),
            ]
        )
    }

    static func heartbeat(_ device: String, _ institution: String, at: Timestamp, ok: Bool = true) -> (FeedType, JSONObject) {
        (
            .safetyHeartbeat,
            [
                "device_id": .string(device), "institution_id": .string(institution), "device_kind": "alarm",
                "at": .string(at.description), "status": .string(ok ? "ok" : "fault"),
            ]
        )
    }

    static func project(_ id: String, kind: String, delivered: Int64, status: String) -> (FeedType, JSONObject) {
        (
            .projectProgress,
            [
                "project_id": .string(id), "name": .string("项目 " + id), "kind": .string(kind), "seats_planned": 500,
                "seats_delivered": .int(delivered), "investment_planned_wan": 1000, "invested_wan": 800.5,
                "due": "2024-08-31", "status": .string(status),
            ]
        )
    }

    /// Reads the sample data set as (type, body) pairs in file order.
    static func sampleRecords() throws -> [(FeedType, JSONObject)] {
        let folder = repoRoot + "/deploy/sample/data"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jsonl") }.sorted()
        var records: [(FeedType, JSONObject)] = []
        for file in files {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            for line in text.split(separator: "\n") where !line.isEmpty {
                let envelope = try JSONParser.parse(String(line))
                let type = try #require(envelope["type"]?.stringValue.flatMap(FeedType.init(rawValue:)))
                let body = try #require(envelope["body"]?.objectValue)
                records.append((type, body))
            }
        }
        return records
    }
}

extension EvaluationFixture {
    /// `value` rounded to `places` decimals, for comparing with figures people read.
    static func rounded(_ value: Double?, _ places: Int) -> Double? {
        guard let value else { return nil }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
