import DudaoCore
import DudaoFeeds
import Testing

@Suite struct FeedRegistryTests {
    func feed(_ type: FeedType, _ changes: [FeedSamples.Change] = []) throws -> ValidatedFeed {
        try FeedSamples.accept(type, try FeedSamples.body(type, changes))
    }

    @Test func unknownTownIsAnUnknownReference() throws {
        let registry = Registry()
        let cohort = try feed(.populationCohort)
        let error = try #require(registry.check(cohort.references))
        #expect(
            error
                == WireError(
                    .unknownReference, "town \"dongcheng\" is not registered; send registry.town first",
                    zh: "字段 body.town_id：镇街 \"dongcheng\" 未登记；请先发送 registry.town", path: "body.town_id"))
        #expect(registry.check(try feed(.financeYear).references) == nil)
    }

    @Test func unknownInstitutionIsAnUnknownReference() throws {
        let registry = Registry()
        let error = try #require(registry.check(try feed(.safetyHeartbeat).references))
        #expect(error.code == .unknownReference)
        #expect(error.path == "body.institution_id")
        #expect(error.message == "institution \"kg-1\" is not registered; send registry.institution first")
    }

    @Test func applyThenCheckPasses() throws {
        var registry = Registry()
        registry.apply(try feed(.registryTown))
        let institution = try feed(.registryInstitution)
        #expect(registry.check(institution.references) == nil)
        registry.apply(institution)
        #expect(registry.towns["dongcheng"] == Registry.Town(id: "dongcheng", name: "东成镇", kind: .town))
        #expect(
            registry.institutions["kg-1"]
                == Registry.Institution(
                    id: "kg-1", name: "东成镇中心幼儿园", townID: "dongcheng", level: .kindergarten, ownership: .public,
                    townCentral: true))
        for type in [FeedType.preschoolCensus, .safetyInventory, .safetyHeartbeat, .safetyAlarm, .populationCohort] {
            #expect(registry.check(try feed(type).references) == nil, "\(type.rawValue)")
        }
    }

    @Test func wrongLevelIsAnInvalidField() throws {
        var registry = Registry()
        registry.apply(try feed(.registryTown))
        registry.apply(try feed(.registryInstitution, [.set("level", "junior"), .remove("town_central")]))
        let census = try feed(.preschoolCensus)
        let error = try #require(registry.check(census.references))
        #expect(error.code == .invalidField)
        #expect(error.path == "body.institution_id")
        #expect(error.message.contains("junior"))
        #expect(error.message.contains("kindergarten"))
        // A junior school may send a compulsory census and safety feeds.
        let compulsory = try feed(.compulsoryCensus, [.set("institution_id", "kg-1")])
        #expect(registry.check(compulsory.references) == nil)
        #expect(registry.check(try feed(.safetyInventory).references) == nil)
    }

    @Test func kindergartenCannotSendCompulsoryCensus() throws {
        var registry = Registry()
        registry.apply(try feed(.registryTown))
        registry.apply(try feed(.registryInstitution, [.set("institution_id", "pri-1")]))
        let error = try #require(registry.check(try feed(.compulsoryCensus).references))
        #expect(error.code == .invalidField)
        #expect(error.message.contains("primary, junior, nine_year, special"))
    }

    @Test func laterRegistrationReplacesTheRecord() throws {
        var registry = Registry()
        registry.apply(try feed(.registryInstitution))
        registry.apply(try feed(.registryInstitution, [.set("ownership", "inclusive_private"), .set("town_id", "shahu")]))
        #expect(registry.institutions["kg-1"]?.ownership == .inclusivePrivate)
        #expect(registry.institutions["kg-1"]?.townID == "shahu")
        #expect(registry.institutions.count == 1)
    }

    @Test func applyIgnoresOtherTypes() throws {
        var registry = Registry()
        registry.apply(try feed(.populationCohort))
        registry.apply(try feed(.safetyInventory))
        #expect(registry.towns.isEmpty)
        #expect(registry.institutions.isEmpty)
    }

    @Test func townOfAFeed() throws {
        var registry = Registry()
        #expect(registry.town(of: try feed(.safetyAlarm)) == nil)
        registry.apply(try feed(.registryInstitution))
        #expect(registry.town(of: try feed(.safetyAlarm)) == "dongcheng")
        #expect(registry.town(of: try feed(.populationCohort, [.set("town_id", "shahu")])) == "shahu")
        #expect(registry.town(of: try feed(.financeYear)) == nil)
    }
}
