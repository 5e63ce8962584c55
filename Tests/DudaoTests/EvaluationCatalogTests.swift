import DudaoCore
import DudaoEvaluation
import DudaoFeeds
import Foundation
import Testing

/// Loading the catalog file, and refusing broken ones with the line of the offending indicator.
@Suite struct EvaluationCatalogTests {
    /// Every indicator id of INDICATORS.md.
    static let ids = [
        "preschool.gross_enrollment_rate", "preschool.inclusive_coverage", "preschool.public_share",
        "preschool.children_per_teacher", "preschool.children_per_staff", "preschool.children_per_carer",
        "preschool.class_size_compliance", "preschool.two_teachers_one_carer", "preschool.certified_teacher_rate",
        "preschool.town_central_coverage", "preschool.disabled_enrollment_rate", "preschool.social_recognition",
        "finance.public_kg_per_pupil", "finance.inclusive_private_subsidy", "finance.preschool_share",
        "finance.preschool_spend_per_child", "compulsory.retention_rate", "compulsory.private_share",
        "compulsory.migrant_public_share", "compulsory.large_classes", "special.enrollment_rate",
        "special.home_delivery_share", "safety.alarm_install_rate", "safety.police_link_rate",
        "safety.closed_management_rate", "safety.guard_staffing_rate", "safety.alarm_online_rate",
        "projects.kindergarten_done", "projects.public_kg_seats", "projects.compulsory_done", "projects.primary_seats",
        "projects.junior_seats", "talent.county_famous_teachers", "talent.city_excellent_teachers",
        "talent.studios_provincial", "talent.studios_city", "talent.studios_county",
    ]

    @Test func theDefaultCatalogLoads() throws {
        let catalog = try Catalog.load(path: EvaluationFixture.catalogPath)
        #expect(catalog.name == "enping-2023-2025")
        #expect(catalog.indicators.map(\.id) == Self.ids)
        #expect(catalog.indicators.allSatisfy { $0.departments.contains("education") })
        let teacher = try #require(catalog.indicator("preschool.children_per_teacher"))
        #expect(teacher.unit == "ratio")
        #expect(teacher.op == "<=")
        #expect(teacher.target == .byYear([YearTarget(year: 2023, value: 16), YearTarget(year: 2024, value: 15)]))
        #expect(teacher.target.fixedTarget(for: 2022) == nil)
        #expect(teacher.target.fixedTarget(for: 2026) == 15)
        #expect(teacher.scopes == [.city, .town, .institution])
        #expect(teacher.departments == ["education", "staffing", "hr"])
        #expect(teacher.atRiskMargin == 0.5)
        #expect(catalog.indicator("preschool.public_share")?.atRiskMargin == 2)
        #expect(catalog.indicator("safety.guard_staffing_rate")?.atRiskMargin == 0)
        #expect(catalog.indicator("finance.public_kg_per_pupil")?.atRiskMargin == 20)
        #expect(catalog.indicator("finance.preschool_spend_per_child")?.target == .previousYear)
        #expect(catalog.indicator("safety.alarm_online_rate")?.op == nil)
        #expect(catalog.indicator("safety.alarm_online_rate")?.departments == ["education", "police"])
        #expect(catalog.indicator("special.enrollment_rate")?.departments == ["education", "disabled_federation"])
        #expect(catalog.indicator("projects.junior_seats")?.departments == ["education", "natural_resources", "housing", "development"])
        #expect(catalog.indicator("finance.preschool_share")?.departments == ["education", "finance"])
        // the line of each indicator is the line of its "id"
        #expect(catalog.indicators.first?.line == 8)
    }

    @Test func theBuiltInCatalogIsTheFile() throws {
        let file = try String(contentsOfFile: EvaluationFixture.catalogPath, encoding: .utf8)
        #expect(file == BuiltInCatalog.enpingText)
        #expect(try BuiltInCatalog.enping().indicators.map(\.id) == Self.ids)
    }

    // MARK: - Refusals

    /// A valid two-indicator catalog; `second` replaces the second indicator's text.
    static func text(second: String) -> String {
        """
        {
          "name": "test",
          "default_at_risk_margin": 1,
          "indicators": [
            {
              "id": "a.one",
              "name_zh": "一", "name_en": "One", "unit": "%", "op": ">=", "targets": {"2023": 100},
              "scopes": ["city"], "clause": "一", "departments": ["education"],
              "formula": {"value": {"feed": "finance.year", "field": "public_kg_per_pupil_yuan"}}
            },
            {
              "id": "b.two",
        \(second)
            }
          ]
        }
        """
    }

    static let goodSecond = """
              "name_zh": "二", "name_en": "Two", "unit": "%", "op": ">=", "targets": {"2023": 1},
              "scopes": ["city", "town"], "clause": "二", "departments": ["education"],
              "formula": {"count": {"feed": "preschool.census", "items": "classes"}}
        """

    func refusal(_ second: String) -> CatalogError? {
        do {
            _ = try Catalog.parse(Array(Self.text(second: second).utf8), name: "test.json")
            return nil
        } catch {
            return error
        }
    }

    @Test func theTestCatalogIsValid() throws {
        let catalog = try Catalog.parse(Array(Self.text(second: Self.goodSecond).utf8), name: "test.json")
        #expect(catalog.indicators.map(\.line) == [6, 12])
        #expect(catalog.indicators.map(\.atRiskMargin) == [1, 1])
    }

    @Test func anUnknownMemberIsRefusedAtItsIndicatorsLine() throws {
        let error = try #require(refusal(Self.goodSecond + ",\n      \"colour\": \"red\""))
        #expect(error.line == 12)
        #expect(error.indicator == "b.two")
        #expect(error.message.hasPrefix("unknown member \"colour\" in the indicator"))
        #expect(error.description.hasPrefix("test.json:12: indicator \"b.two\": unknown member \"colour\""))
    }

    @Test func anUnknownFeedFieldIsRefused() throws {
        let second = Self.goodSecond.replacingOccurrences(
            of: #"{"count": {"feed": "preschool.census", "items": "classes"}}"#,
            with: #"{"sum": {"feed": "preschool.census", "field": "classes[].kids"}}"#)
        let error = try #require(refusal(second))
        #expect(error.line == 12)
        #expect(error.message.contains("unknown field \"kids\" of a preschool.census classes item"))
        let condition = Self.goodSecond.replacingOccurrences(
            of: #""items": "classes"}"#, with: #""items": "classes", "where": [{"field": "owner", "in": ["public"]}]}"#)
        let conditionError = try #require(refusal(condition))
        #expect(conditionError.line == 12)
        #expect(conditionError.message.contains("unknown field \"owner\" of preschool.census"))
    }

    @Test func aBadOpIsRefused() throws {
        let error = try #require(refusal(Self.goodSecond.replacingOccurrences(of: #""op": ">=""#, with: #""op": "=>""#)))
        #expect(error.line == 12)
        #expect(error.message == "op must be \">=\", \"<=\" or null, got \"=>\"")
        let conditionOp = Self.goodSecond.replacingOccurrences(
            of: #""items": "classes"}"#,
            with: #""items": "classes", "where_item": [{"field": "children", "op": "≤", "value": 25}]}"#)
        let conditionError = try #require(refusal(conditionOp))
        #expect(conditionError.line == 12)
        #expect(conditionError.message.contains("op \"≤\" is not an operator"))
    }

    @Test func otherMistakesAreRefused() throws {
        func message(_ from: String, _ to: String) -> String? {
            refusal(Self.goodSecond.replacingOccurrences(of: from, with: to))?.message
        }
        #expect(message("preschool.census", "preschool.censsus")?.contains("unknown feed type \"preschool.censsus\"") == true)
        #expect(message(#""scopes": ["city", "town"]"#, #""scopes": ["city", "province"]"#)?.contains("not a scope") == true)
        #expect(message(#""departments": ["education"]"#, #""departments": ["education", "army"]"#)?.contains("\"army\"") == true)
        #expect(message(#""departments": ["education"]"#, #""departments": ["police"]"#)?.contains("must include \"education\"") == true)
        #expect(message(#""targets": {"2023": 1}"#, #""targets": {"23": 1}"#)?.contains("not a year") == true)
        #expect(message(#""op": ">=", "#, "")?.contains("targets need an op") == true)
        #expect(message(#""items": "classes""#, #""items": "full_time_teachers""#)?.contains("not an array") == true)
        #expect(
            message(#"{"count": {"feed": "preschool.census", "items": "classes"}}"#, #"{"count": {"feed": "finance.year"}}"#)?
                .contains("scope \"town\" is not possible") == true)
        #expect(
            message(#"{"count": {"feed": "preschool.census", "items": "classes"}}"#, #"{"average": {"feed": "finance.year"}}"#)?
                .contains("exactly one of sum, value, count, online") == true)
        #expect(
            message(#""items": "classes"}"#, #""items": "classes", "where_item": [{"field": "level", "in": ["tiny"]}]}"#)?
                .contains("\"tiny\" is not a value of level") == true)
        let duplicate = Self.text(second: Self.goodSecond).replacingOccurrences(of: "\"b.two\"", with: "\"a.one\"")
        do {
            _ = try Catalog.parse(Array(duplicate.utf8), name: "dup.json")
            Issue.record("a duplicate id was accepted")
        } catch {
            #expect(error.line == 12)
            #expect(error.message == "id \"a.one\" is declared twice")
        }
    }

    @Test func topLevelAndSyntaxErrorsNameTheirLine() throws {
        let unknownTop = Self.text(second: Self.goodSecond).replacingOccurrences(of: "\"name\": \"test\",", with: "\"name\": \"test\", \"version\": 2,")
        do {
            _ = try Catalog.parse(Array(unknownTop.utf8), name: "top.json")
            Issue.record("an unknown top-level member was accepted")
        } catch {
            #expect(error.line == 2)
            #expect(error.indicator == nil)
            #expect(error.message.hasPrefix("unknown top-level member \"version\""))
        }
        let broken = Self.text(second: Self.goodSecond).replacingOccurrences(of: "\"clause\": \"二\",", with: "\"clause\": \"二\",,")
        do {
            _ = try Catalog.parse(Array(broken.utf8), name: "broken.json")
            Issue.record("broken JSON was accepted")
        } catch {
            #expect(error.line == 14)
        }
        do {
            _ = try Catalog.load(path: "/nonexistent/catalog.json")
            Issue.record("a missing file was accepted")
        } catch {
            #expect(error.message == "cannot read the catalog file")
        }
    }
}
