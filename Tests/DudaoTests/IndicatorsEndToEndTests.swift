import DudaoCore
import DudaoTesting
import DudaoWire
import Foundation
import GRDB
import Testing

/// `dudao send` the sample city to the real ingest, query the real indicators service over mTLS.
@Suite(.serialized) struct IndicatorsEndToEndTests {
    /// The ids of the events waiting in the indicators service's outbox (read-only, beside the
    /// running service: WAL lets a reader in).
    static func outboxIDs(_ path: String) throws -> Set<String> {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in Set(try String.fetchAll(db, sql: "SELECT frame_id FROM outbox")) }
    }

    func round1(_ value: JSONValue?) -> Double? {
        value?.doubleValue.map { ($0 * 10).rounded() / 10 }
    }

    @Test func sampleCityThroughTheRealExecutables() async throws {
        let reporting = EvaluationFixture.repoRoot + "/deploy/reporting.json"
        let system = try IndicatorsFixture(settings: #""reporting_file": "\#(reporting)""#)
        defer { system.stop() }
        let files = try FileManager.default.contentsOfDirectory(atPath: IndicatorsFixture.sampleDataPath)
            .filter { $0.hasSuffix(".jsonl") }.sorted().map { "\(IndicatorsFixture.sampleDataPath)/\($0)" }
        let sent = try runTool(
            "dudao", ["send", "--quiet", "--port", String(system.ingest.port), "--certs", system.ingest.pki.directory] + files)
        #expect(sent.status == 0, "\(sent.output)\(sent.error)")
        #expect(sent.output.contains("0 rejected"))
        try await system.waitUntilCaughtUp()

        let city = try await system.evaluate(year: 2025, scope: "city")
        #expect(round1(city["preschool.gross_enrollment_rate"]?["value"]) == 101.7)
        // 101.7 % meets 100 % but lies within the 2-point at-risk margin.
        #expect(city["preschool.gross_enrollment_rate"]?["status"] == "at_risk")
        #expect(round1(city["preschool.inclusive_coverage"]?["value"]) == 88.3)
        #expect(round1(city["preschool.public_share"]?["value"]) == 52.6)
        #expect(city["preschool.children_per_teacher"]?["value"]?.doubleValue.map { ($0 * 100).rounded() / 100 } == 14.46)
        // One town (naji) has no central public kindergarten: 10 of 11.
        #expect(city["preschool.town_central_coverage"]?["numerator"] == 10)
        #expect(city["preschool.town_central_coverage"]?["status"] == "not_met")
        // Three kindergartens never reported a safety inventory: they count against the rate.
        #expect(city["safety.alarm_install_rate"]?["status"] == "not_met")
        #expect(city["preschool.gross_enrollment_rate"]?["clause"]?.stringValue?.isEmpty == false)

        // A town and an institution scope answer too; an unknown town is named.
        let town = try await system.evaluate(year: 2025, scope: "town:dongcheng")
        #expect(town["preschool.gross_enrollment_rate"] != nil)
        #expect(town["preschool.town_central_coverage"] == nil)  // city only
        let client = try await system.connectIndicators()
        let unknown = try await client.request(
            ["v": 1, "kind": "query", "id": "u", "type": "indicators.evaluate", "body": ["year": 2025, "scope": "town:atlantis"]])
        #expect(unknown["error"]?["code"] == "unknown_reference")
        #expect(unknown["error"]?["path"] == "body.scope")
        let badYear = try await client.request(
            ["v": 1, "kind": "query", "id": "y", "type": "indicators.evaluate", "body": ["year": "2025", "scope": "city"]])
        #expect(badYear["error"]?["path"] == "body.year")
        // Drill-down: the classes over the size limit.
        let contributors = try await client.request(
            ["v": 1, "kind": "query", "id": "c", "type": "indicators.contributors",
             "body": ["indicator": "preschool.class_size_compliance", "year": 2025, "scope": "city", "limit": 5]])
        #expect((contributors["body"]?["rows"]?.arrayValue?.count ?? 0) > 0)
        let history = try await client.request(
            ["v": 1, "kind": "query", "id": "h", "type": "indicators.history",
             "body": ["indicator": "preschool.gross_enrollment_rate", "scope": "city"]])
        let points = history["body"]?["history"]?.arrayValue ?? []
        #expect(points.contains { $0["year"] == 2023 && round1($0["value"]) == 98.6 })
        // The national assessment's criteria, asked by catalog: the same enrolment, another target.
        let national = try await client.request(
            Frame.query("indicators.evaluate", id: "n", body: ["year": 2025, "scope": "city", "catalog": "national-2020"]))
        #expect(national["body"]?["catalog"] == "national-2020")
        let nationalRows = national["body"]?["indicators"]?.arrayValue ?? []
        #expect(nationalRows.allSatisfy { $0["catalog"] == "national-2020" } && nationalRows.count == 13)
        let nationalRate = nationalRows.first { $0["id"] == "national.gross_enrollment_rate" }
        #expect(round1(nationalRate?["value"]) == 101.7 && nationalRate?["target"] == 85 && nationalRate?["status"] == "met")
        #expect(city["preschool.gross_enrollment_rate"]?["catalog"] == "enping-2023-2025")
        let all = try await client.request(
            Frame.query("indicators.evaluate", id: "a", body: ["year": 2025, "scope": "city", "catalog": "all"]))
        #expect((all["body"]?["indicators"]?.arrayValue?.count ?? 0) == city.count + 13 && all["body"]?["catalog"] == nil)
        let catalogs = try await client.request(Frame.query("indicators.catalogs", id: "k"))
        #expect(catalogs["body"]?["catalogs"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["enping-2023-2025", "national-2020"])
        let noCatalog = try await client.request(
            Frame.query("indicators.evaluate", id: "x", body: ["year": 2025, "scope": "city", "catalog": "provincial"]))
        #expect(noCatalog["error"]?["code"] == "invalid_field" && noCatalog["error"]?["path"] == "body.catalog")
        #expect(noCatalog["error"]?["message"]?.stringValue?.contains("enping-2023-2025, national-2020, all") == true)

        // Will the county pass? The readiness report through the CLI: each national criterion,
        // its gap in things to do, the towns and institutions that make it; CSV with a BOM, HTML
        // with a chart per criterion.
        let readinessCSV = system.ingest.root.file("readiness.csv")
        let csv = try runTool(
            "dudao",
            ["report", "--readiness", "--year", "2025", "--catalog", "national-2020", "--format", "csv", "--out", readinessCSV,
             "--port", String(system.indicators.port), "--certs", system.ingest.pki.directory])
        #expect(csv.status == 0, "\(csv.error)")
        let csvBytes = try Data(contentsOf: URL(fileURLWithPath: readinessCSV))
        #expect(Array(csvBytes.prefix(3)) == [0xEF, 0xBB, 0xBF], "a byte-order mark for Excel")
        let csvText = String(decoding: csvBytes.dropFirst(3), as: UTF8.self)
        #expect(csvText.hasPrefix("目录,catalog,范围,scope,指标,indicator,数值,目标,状态,status,差距,gap_amount\n"))
        let csvLines = csvText.split(separator: "\n").map(String.init)
        // One town (naji) of 11 has no public central kindergarten.
        #expect(csvLines.contains {
            $0.contains(",national-2020,全市,city,每个乡镇办好一所公办中心园,national.town_central_coverage,90.91%,≥100%,未达标,not_met,还需在 1 个镇（街）办好公办中心幼儿园,1")
        }, "\(csvText)")
        #expect(csvLines.contains { $0.contains(",全市,city,") && $0.contains("national.certified_teacher_rate") && $0.hasSuffix("还需 9 名园长或专任教师取得资格证书,9") })
        #expect(csvLines.contains { $0.contains(",town:") && $0.contains("national.certified_teacher_rate") && $0.hasSuffix(",1") })
        #expect(!csvLines.contains { $0.contains("enping-2023-2025") }, "one catalog asked")
        let readiness = try runTool(
            "dudao",
            ["report", "--readiness", "--year", "2025", "--format", "html", "--port", String(system.indicators.port), "--certs",
             system.ingest.pki.directory])
        #expect(readiness.status == 0, "\(readiness.error)")
        #expect(readiness.output.contains("达标 6 / 11 项") && readiness.output.contains("<svg"))
        #expect(readiness.output.contains("县域学前教育普及普惠督导评估（国家，2020）") && readiness.output.contains("恩平市基础教育高质量发展行动方案"))
        #expect(readiness.output.contains("造成差距的单位：那吉镇"), "the town without a central kindergarten is named")
        let markdown = try runTool(
            "dudao",
            ["report", "--readiness", "--year", "2025", "--catalog", "national-2020", "--format", "md", "--port",
             String(system.indicators.port), "--certs", system.ingest.pki.directory])
        #expect(markdown.output.contains("| 每个乡镇办好一所公办中心园 | 90.91% | ≥100% | 未达标 | 还需在 1 个镇（街）办好公办中心幼儿园 |"), "\(markdown.output)")
        // Who has sent what the criteria are computed from (deploy/reporting.json): every census
        // arrived, three inventories are missing, all of them after their due date.
        #expect(markdown.output.contains("## 数据报送情况"), "\(markdown.output)")
        // Next year if the 860 public places being built open as due, and the projects behind.
        #expect(markdown.output.contains("- 2026年预测：在建公办幼儿园学位 860 个如期交付（基于 2025 年数据）"), "\(markdown.output)")
        #expect(markdown.output.contains("- 公办园在园幼儿占比（国家评估）：按期完工 55.57%（达标，目标 ≥50%）；如均未完工 52.6%（达标）"))
        #expect(!markdown.output.contains("- 公办园在园幼儿占比：按期完工"), "only the catalog asked")
        #expect(markdown.output.contains("- 滞后项目：恩平市实验幼儿园新建工程（截止 2024-08-31，已交付 0/500）"))
        #expect(markdown.output.contains("- 幼儿园普查：应报 80，已报 80（逾期 80），缺报 0，报送率 100%"), "\(markdown.output)")
        #expect(markdown.output.contains("- 幼儿园安全设施台账：应报 80，已报 77（逾期 77），缺报 3，报送率 96.25%"), "\(markdown.output)")
        let wrongMonth = try runTool(
            "dudao", ["report", "--readiness", "--year", "2025", "--month", "6", "--port", String(system.indicators.port)])
        #expect(wrongMonth.status != 0 && wrongMonth.error.contains("--readiness reports a year"))
        let feed = try await client.request(["v": 1, "kind": "feed", "id": "f", "type": "registry.town", "body": [:]])
        #expect(feed["error"]?["code"] == "invalid_envelope")
        let unknownType = try await client.request(["v": 1, "kind": "query", "id": "t", "type": "indicators.nothing", "body": [:]])
        #expect(unknownType["error"]?["code"] == "unknown_type")
        await client.close()

        // A town office restricted to its town (access file "towns") asks about it only.
        let office = try await system.connectIndicators(as: "town-dongcheng")
        func ask(_ id: String, _ type: String, _ body: JSONObject) async throws -> JSONValue {
            try await office.request(["v": 1, "kind": "query", "id": .string(id), "type": .string(type), "body": .object(body)])
        }
        #expect(try await ask("o1", "indicators.evaluate", ["year": 2025, "scope": "town:dongcheng"])["kind"] == "result")
        #expect(try await ask("o2", "indicators.evaluate", ["year": 2025, "scope": "institution:kg-dongcheng-01"])["kind"] == "result")
        for (id, type, body) in [
            ("o3", "indicators.evaluate", ["year": 2025, "scope": "city"] as JSONObject),
            ("o4", "indicators.evaluate", ["year": 2025, "scope": "town:encheng"]),
            ("o5", "indicators.history", ["indicator": "preschool.gross_enrollment_rate", "scope": "institution:kg-encheng-01"]),
        ] {
            let refused = try await ask(id, type, body)
            #expect(refused["error"]?["code"] == "forbidden", "\(type) \(body): \(refused)")
            #expect(refused["error"]?["path"] == "body.scope")
        }
        // Queries that cover the whole city whatever scope they name.
        for (id, type, body) in [
            ("o6", "indicators.towns", ["year": 2025, "scope": "town:dongcheng"] as JSONObject),
            ("o7", "indicators.snapshot", ["year": 2025, "month": 6, "scope": "town:dongcheng"]),
            ("o8", "indicators.readiness", ["year": 2025]),
        ] {
            let refused = try await ask(id, type, body)
            #expect(refused["error"]?["code"] == "forbidden", "\(type) \(body): \(refused)")
            #expect(refused["error"]?["path"] == "type")
        }
        await office.close()

        // Status transitions wait in the outbox for dudao-notify (not running here).
        let databasePath = system.ingest.root.file("data/indicators.sqlite")
        let before = try Self.outboxIDs(databasePath)
        #expect(before.contains { $0.hasPrefix("ind:preschool.town_central_coverage:2025:city:not_met:") })

        // The same answers after a kill -9 of the indicators service (state rebuilt from its
        // store), and not one transition raised again.
        try system.killAndRestartIndicators()
        let again = try await system.evaluate(year: 2025, scope: "city")
        #expect(again["preschool.gross_enrollment_rate"]?["value"] == city["preschool.gross_enrollment_rate"]?["value"])
        #expect(again.count == city.count)
        #expect(try Self.outboxIDs(databasePath) == before)

        // naji gets its central kindergarten: exactly one recovery, with a deterministic id.
        try system.ingest.root.write(
            "central.jsonl",
            #"{"institution_id":"kg-naji-01","name":"那吉镇中心幼儿园","town_id":"naji","level":"kindergarten","ownership":"public","town_central":true}"#)
        let central = try runTool(
            "dudao", ["send", "--type", "registry.institution", "--port", String(system.ingest.port), "--certs",
                      system.ingest.pki.directory, system.ingest.root.file("central.jsonl")])
        #expect(central.output.contains("1 accepted"))
        try await system.waitUntilCaughtUp()
        let added = try Self.outboxIDs(databasePath).subtracting(before)
        let recovered = added.filter { $0.hasPrefix("ind:preschool.town_central_coverage:") }
        #expect(recovered.count == 1, "\(added.sorted())")
        #expect(recovered.first?.hasPrefix("ind:preschool.town_central_coverage:2025:city:met:") == true)
        #expect(try await system.evaluate(year: 2025, scope: "city")["preschool.town_central_coverage"]?["status"] == "met")

        // The monthly report through the CLI.
        let report = try runTool(
            "dudao",
            ["report", "--year", "2025", "--month", "6", "--format", "md", "--port", String(system.indicators.port), "--certs",
             system.ingest.pki.directory])
        #expect(report.status == 0, "\(report.error)")
        #expect(report.output.contains("学前三年毛入园率"))
        #expect(report.output.contains("东成镇"))
        let html = try runTool(
            "dudao",
            ["report", "--year", "2025", "--month", "7", "--format", "html", "--port", String(system.indicators.port), "--certs",
             system.ingest.pki.directory])
        #expect(html.output.contains("<svg"))
        #expect(html.output.contains("较上月变化"))

        // The same report as a workbook, read back by openpyxl.
        let workbook = system.ingest.root.file("report.xlsx")
        let xlsx = try runTool(
            "dudao",
            ["report", "--year", "2025", "--month", "8", "--format", "xlsx", "--out", workbook, "--port", String(system.indicators.port),
             "--certs", system.ingest.pki.directory])
        #expect(xlsx.status == 0, "\(xlsx.error)")
        let sheets = try PyPI.openpyxlSheets(of: workbook, repoRoot: EvaluationFixture.repoRoot)
        #expect(Set(sheets.keys) == ["全市指标", "分镇街", "较上月变化"])
        #expect(sheets["全市指标"]?.first == ReportWorkbookHeader.city)
        let gross = sheets["全市指标"]?.first { $0.count > 2 && $0[1] == "preschool.gross_enrollment_rate" }
        #expect(gross?[0] == "学前三年毛入园率")
        #expect(gross.flatMap { Double($0[2]) }.map { ($0 * 10).rounded() / 10 } == 101.7, "\(String(describing: gross))")
        #expect(gross?[5] == "临界")
        #expect(sheets["分镇街"]?.contains { $0.first == "东成镇" } == true)
    }

    enum ReportWorkbookHeader {
        static let city = ["指标", "指标代码", "数值", "单位", "目标", "状态", "条款"]
    }
}
