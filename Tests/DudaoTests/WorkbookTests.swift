import DudaoCore
import DudaoFeeds
import DudaoSheets
import DudaoTesting
import DudaoWire
import Foundation
import GRDB
import Testing

/// Excel in and out through the real CLI: `dudao template` → filled by openpyxl (an independent
/// writer, from PyPI) → `dudao send` → the values stored by the real ingest and evaluated by
/// the real dudao-indicators.
@Suite(.serialized) struct WorkbookTests {
    static let python = Result { try PyPI.python(repoRoot: EvaluationFixture.repoRoot) }

    /// The bodies the ingest stored, by type, in log order.
    static func stored(_ ingest: IngestFixture) throws -> [String: [JSONObject]] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: ingest.databasePath, configuration: configuration)
        let rows = try queue.read { db in try Row.fetchAll(db, sql: "SELECT type, body FROM log ORDER BY seq") }
        var result: [String: [JSONObject]] = [:]
        for row in rows {
            let type: String = row["type"]
            let body: String = row["body"]
            result[type, default: []].append(try JSONParser.parse(body).objectValue ?? [:])
        }
        return result
    }

    /// Every field the validator knows has a Chinese header and an example, and every sheet
    /// name the template writes fits Excel's 31 characters.
    @Test func everyFieldHasAChineseColumn() {
        for type in FeedType.allCases {
            let sheet = FeedSheet.of(type)
            #expect(!sheet.columns.isEmpty)
            for column in sheet.columns {
                #expect(column.zh != column.field && column.zh.unicodeScalars.contains { $0.value >= 0x4E00 }, "\(type.rawValue) \(column.field)")
                #expect(column.optional || !column.example.isEmpty, "\(type.rawValue) \(column.field)")
                if case .choice(let values) = column.kind {
                    #expect(values.allSatisfy { FeedSheet.choiceZh($0) != nil }, "\(type.rawValue) \(column.field)")
                }
            }
            #expect("\(sheet.titleZh)（\(type.rawValue)）".count <= 31, "\(type.rawValue)")
        }
    }

    /// The whole template, sent as written, is accepted: every sheet's example rows are valid
    /// feeds (a census sheet's two rows are one feed with two classes; two institutions).
    @Test func theTemplateAsWrittenIsAccepted() throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let path = ingest.root.file("template.xlsx")
        let wrote = try runTool("dudao", ["template", "--out", path])
        #expect(wrote.status == 0, "\(wrote.error)")
        let sent = try runTool(
            "dudao", ["send", "--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator", path])
        #expect(sent.status == 0, "\(sent.output)\(sent.error)")
        #expect(sent.output.contains("summary: 15 lines: 15 accepted, 0 duplicate, 0 stale, 0 rejected"), "\(sent.output)")
        #expect(sent.error.contains("sheet \"填写说明\" is not a feed type; skipped"))
        #expect(sent.output.contains("template.xlsx:幼儿园普查（preschool.census）!2\t"), "\(sent.output)")
        let stored = try Self.stored(ingest)
        #expect(Set(stored.keys) == Set(FeedType.allCases.map(\.rawValue)))
        let census = try #require(stored["preschool.census"]?.first)
        #expect(census["classes"]?.arrayValue?.compactMap { $0["class_id"]?.stringValue } == ["s1", "s1-2"])
        #expect(stored["safety.inventory"]?.first?["alarm_devices"] == ["alarm-dc01-1", "alarm-dc01-2"])
        #expect(stored["talent.year"]?.first?["studios"]?["county"] == 21)

        let again = try runTool(
            "dudao", ["send", "--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator", path])
        #expect(again.output.contains("summary: 15 lines: 0 accepted, 15 duplicate"), "\(again.output)")

        // deploy/sample/examples/every-type.xlsx is this template (`dudao template --out` it again after a change).
        let sample = try Self.contents(EvaluationFixture.repoRoot + "/deploy/sample/examples/every-type.xlsx")
        let fresh = try Self.contents(path)
        #expect(sample.map(\.name) == fresh.map(\.name))
        #expect(sample.map(\.rows) == fresh.map(\.rows), "every-type.xlsx differs from `dudao template`; regenerate it")
    }

    /// Each sheet's name and rows, read by DudaoSheets.
    static func contents(_ path: String) throws -> [(name: String, rows: [[SheetCell]])] {
        let reader = try XlsxReader(path: path)
        return try reader.sheets.map { sheet in
            var rows: [[SheetCell]] = []
            try reader.rows(of: sheet) { rows.append($0.cells) }
            return (sheet.name, rows)
        }
    }

    static let fillScript = #"""
        import datetime, sys, openpyxl
        path, out = sys.argv[1], sys.argv[2]
        wb = openpyxl.load_workbook(path)

        def fill(feed_type, rows, chinese_headers=False):
            ws = next(ws for ws in wb.worksheets if ws.title.endswith("（%s）" % feed_type))
            fields = [cell.value.split("（")[-1].rstrip("）") for cell in ws[1]]
            if chinese_headers:  # the Chinese name alone is a header too
                for cell in ws[1]:
                    cell.value = cell.value.split("（")[0]
            ws.delete_rows(2, ws.max_row)
            for row in rows:
                ws.append([row.get(field) for field in fields])

        fill("registry.town", [{"town_id": "t-a", "name": "甲镇", "kind": "镇"}, {"town_id": "t-b", "name": "乙街道", "kind": "街道"}])
        fill("registry.institution", [
            {"institution_id": "kg-a", "name": "甲镇中心幼儿园", "town_id": "t-a", "level": "幼儿园", "ownership": "公办", "town_central": "是"},
            {"institution_id": "kg-b", "name": "乙街道幼儿园", "town_id": "t-b", "level": "kindergarten", "ownership": "inclusive_private"},
            {"institution_id": 1001, "name": "乙街道第二幼儿园", "town_id": "t-b", "level": "kindergarten", "ownership": "private"},
            {"institution_id": "ps-a", "name": "甲镇小学", "town_id": "t-a", "level": "小学", "ownership": "公办"},
        ])
        fill("population.cohort", [
            {"town_id": "t-a", "year": 2025, "age_3": 100, "age_4": 100, "age_5": 100},
            {"town_id": "t-b", "year": 2025, "age_3": 50, "age_4": 50, "age_5": 50},
        ], chinese_headers=True)
        kg_a = {"institution_id": "kg-a", "year": 2025, "full_time_teachers": 6, "caregivers": 3, "staff_total": 12,
                "certified_teachers": 6, "disabled_children_certified": 1}
        fill("preschool.census", [
            dict(kg_a, **{"classes.class_id": "s1", "classes.level": "小班", "classes.children": 25, "classes.teachers": 2, "classes.caregivers": 1}),
            {"classes.class_id": "m1", "classes.level": "中班", "classes.children": 31, "classes.teachers": 2, "classes.caregivers": 1},
            dict(kg_a, **{"classes.class_id": "l1", "classes.level": "large", "classes.children": 35, "classes.teachers": 2, "classes.caregivers": 1}),
            {"institution_id": "kg-b", "year": 2025, "full_time_teachers": 2, "caregivers": 1, "staff_total": 4, "certified_teachers": 2,
             "disabled_children_certified": 0, "classes.class_id": "x1", "classes.level": "混龄班", "classes.children": 20,
             "classes.teachers": 2, "classes.caregivers": 1},
            {"institution_id": 1001, "year": 2025, "full_time_teachers": 1, "caregivers": 1, "staff_total": 2, "certified_teachers": 1,
             "disabled_children_certified": 0, "classes.class_id": 1, "classes.level": "small", "classes.children": 10,
             "classes.teachers": 1, "classes.caregivers": 1},
        ])
        fill("compulsory.census", [
            {"institution_id": "ps-a", "year": 2025, "students": 90, "migrant_students": 5, "classes.class_id": "1a", "classes.grade": 1, "classes.students": 45},
            {"classes.class_id": "1b", "classes.grade": 1, "classes.students": 45},
        ])
        fill("talent.year", [{"year": 2025, "county_famous_teachers": 60, "city_excellent_teachers": 10,
                              "studios.provincial": 2, "studios.city": 7, "studios.county": 22}])
        fill("project.progress", [{"project_id": "p1", "name": "甲镇幼儿园扩建", "kind": "幼儿园", "seats_planned": 300, "seats_delivered": 120,
                                   "investment_planned_wan": 1000, "invested_wan": 400.5, "due": datetime.date(2025, 8, 31), "status": "在建"}])
        fill("safety.inventory", [{"institution_id": "kg-a", "alarm_devices": "a-1、a-2", "cctv_police_linked": "是", "cameras": 10,
                                   "cameras_linked": 10, "closed_management": True, "guards_required": 2, "guards_full_time": 2}])
        fill("safety.heartbeat", [{"device_id": "a-1", "institution_id": "kg-a", "device_kind": "一键报警",
                                   "at": datetime.datetime(2026, 11, 29, 8, 0, 0), "status": "正常"}])
        fill("safety.alarm", [{"device_id": "a-1", "institution_id": "kg-a", "at": "2026-11-29 08:01", "note": "演练"}])
        for feed_type in ["compulsory.retention", "special.population", "finance.year", "survey.recognition"]:
            fill(feed_type, [])
        wb.save(out)
        """#

    /// openpyxl fills the template the way a person would (Chinese choice values, 是/否, dates
    /// typed as dates, a number where an id goes, a class per row, Chinese-only headers) and
    /// the values come back from dudao-indicators.
    @Test func aTemplateFilledByOpenpyxlComesBackFromTheIndicators() async throws {
        let python = try Self.python.get()
        let system = try IndicatorsFixture()
        defer { system.stop() }
        let root = system.ingest.root
        let template = root.file("template.xlsx"), filled = root.file("filled.xlsx")
        #expect(try runTool("dudao", ["template", "--out", template]).status == 0)
        try root.write("fill.py", Self.fillScript)
        let script = try runProgram(python, [root.file("fill.py"), template, filled])
        #expect(script.status == 0, "\(script.error)")

        let sent = try runTool(
            "dudao", ["send", "--port", String(system.ingest.port), "--certs", system.ingest.pki.directory, "--identity", "operator", filled])
        #expect(sent.status == 0, "\(sent.output)\(sent.error)")
        #expect(sent.output.contains("summary: 17 lines: 17 accepted, 0 duplicate, 0 stale, 0 rejected"), "\(sent.output)")

        let stored = try Self.stored(system.ingest)
        #expect(stored["registry.town"]?.map { $0["kind"] } == ["town", "street"])
        let kgA = try #require(stored["registry.institution"]?.first)
        #expect(kgA["ownership"] == "public" && kgA["town_central"] == true && kgA["level"] == "kindergarten")
        #expect(stored["registry.institution"]?.map { $0["institution_id"] } == ["kg-a", "kg-b", "1001", "ps-a"])
        let census = stored["preschool.census"] ?? []
        #expect(census.map { $0["classes"]?.arrayValue?.count } == [3, 1, 1])
        #expect(census.first?["classes"]?.arrayValue?.map { $0["level"] } == ["small", "middle", "large"])
        #expect(census.last?["classes"]?[0]?["class_id"] == "1")
        #expect(stored["project.progress"]?.first?["due"] == "2025-08-31")
        #expect(stored["project.progress"]?.first?["status"] == "building")
        #expect(stored["project.progress"]?.first?["invested_wan"] == 400.5)
        #expect(stored["safety.inventory"]?.first?["alarm_devices"] == ["a-1", "a-2"])
        #expect(stored["safety.inventory"]?.first?["cctv_police_linked"] == true)
        #expect(stored["safety.heartbeat"]?.first?["at"] == "2026-11-29T08:00:00+08:00")
        #expect(stored["safety.heartbeat"]?.first?["device_kind"] == "alarm")
        #expect(stored["safety.alarm"]?.first?["at"] == "2026-11-29T08:01:00+08:00")

        try await system.waitUntilCaughtUp()
        let city = try await system.evaluate(year: 2025, scope: "city")
        #expect(city["preschool.children_per_teacher"]?["numerator"] == 121)
        #expect(city["preschool.children_per_teacher"]?["denominator"] == 9)
        #expect(city["preschool.gross_enrollment_rate"]?["denominator"] == 450)
        #expect(city["preschool.class_size_compliance"]?["numerator"] == 4)  // m1: 31 in a middle class (limit 30)
        #expect(city["talent.studios_city"]?["value"] == 7)
        #expect(city["projects.public_kg_seats"]?["value"] == 120)
        let town = try await system.evaluate(year: 2025, scope: "town:t-b")
        #expect(town["preschool.children_per_teacher"]?["numerator"] == 30)
    }

    /// CSV cells are read by the same column kinds: Chinese choices and 是/否 in a CSV too; and a
    /// field that is not one is named in Chinese by the type's Chinese title.
    @Test func csvCellsAreReadByTheSameColumnKinds() async throws {
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        try ingest.root.write("towns.csv", "town_id,name,kind\nt-a,甲镇,镇\nt-b,乙街道,街道\n")
        try ingest.root.write(
            "kg.csv", "institution_id,name,town_id,level,ownership,town_central\nkg-a,甲镇中心幼儿园,t-a,幼儿园,公办,是\n")
        let common = ["--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator"]
        let towns = try runTool("dudao", ["send", "--type", "registry.town"] + common + [ingest.root.file("towns.csv")])
        #expect(towns.status == 0, "\(towns.output)")
        let kg = try runTool("dudao", ["send", "--type", "registry.institution"] + common + [ingest.root.file("kg.csv")])
        #expect(kg.status == 0, "\(kg.output)")
        let stored = try Self.stored(ingest)
        #expect(stored["registry.town"]?.map { $0["kind"] } == ["town", "street"])
        #expect(stored["registry.institution"]?.first?["town_central"] == true)
        #expect(stored["registry.institution"]?.first?["ownership"] == "public")

        let client = try await ingest.connect()
        let nack = try await client.request(Frames.feed("s1", "survey.recognition", ["year": 2025, "respondents": 10, "satisfied": 9, "colour": 1]))
        await client.close()
        #expect(nack["error"]?["message_zh"]?.stringValue?.hasPrefix("body.colour 不是群众满意度调查（survey.recognition）的字段") == true, "\(nack)")
    }

    /// A header that is no column stops the file before anything is sent, naming the cell and
    /// the columns; a census row that changes its feed's own columns is refused by place.
    @Test func aWrongHeaderOrAChangedFeedColumnIsNamed() throws {
        let python = try Self.python.get()
        let ingest = try IngestFixture()
        defer { ingest.stop() }
        let path = ingest.root.file("bad.xlsx")
        try ingest.root.write(
            "bad.py",
            #"""
            import sys, openpyxl
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = "population.cohort"
            ws.append(["镇街代码", "年度", "3岁儿童", "age_4", "age_5"])
            ws.append(["t-a", 2025, 1, 2, 3])
            ws = wb.create_sheet("preschool.census")
            ws.append(["institution_id", "year", "classes.class_id", "classes.children", "full_time_teachers"])
            ws.append(["kg-a", 2025, "s1", 20, 2])
            ws.append(["kg-a", 2025, "s2", 20, 3])
            wb.save(sys.argv[1])
            """#)
        #expect(try runProgram(python, [ingest.root.file("bad.py"), path]).status == 0)
        let common = ["--port", String(ingest.port), "--certs", ingest.pki.directory, "--identity", "operator"]
        let sent = try runTool("dudao", ["send"] + common + [path])
        #expect(sent.status != 0)
        #expect(sent.error.contains("sheet population.cohort, cell C1: \"3岁儿童\" is not a column of population.cohort"), "\(sent.error)")
        #expect(sent.error.contains("3岁常住儿童数（age_3）"))
        #expect(try Self.stored(ingest).isEmpty)

        let fixed = #"""
            import sys, openpyxl
            wb = openpyxl.load_workbook(sys.argv[1])
            wb["population.cohort"]["C1"] = "3岁常住儿童数"
            wb.save(sys.argv[1])
            """#
        try ingest.root.write("fix.py", fixed)
        #expect(try runProgram(python, [ingest.root.file("fix.py"), path]).status == 0)
        let again = try runTool("dudao", ["send"] + common + [path])
        #expect(again.output.contains("bad.xlsx:preschool.census!3\t-\trejected\tinvalid_line\tfull_time_teachers is 3 here but 2 on row 2"), "\(again.output)")
        #expect(again.output.contains("bad.xlsx:population.cohort!2\t"))
    }
}
