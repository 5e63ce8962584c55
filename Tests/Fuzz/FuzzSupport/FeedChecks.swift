import DudaoCore
import DudaoFeeds

/// What feed validation and the registry promise for any body.
public enum FeedChecks {
    /// Bodies registered before each input, so references in fuzzed feeds can resolve: the towns
    /// and institutions (of every level) that the seed corpus and the tests use.
    static let registrations: [(FeedType, JSONObject)] = {
        var list: [(FeedType, JSONObject)] = []
        for town in ["dongcheng", "encheng", "shahu", "hengbei"] {
            list.append((.registryTown, ["town_id": .string(town), "name": .string(town), "kind": "town"]))
        }
        let institutions: [(String, String, InstitutionLevel)] = [
            ("kg-1", "dongcheng", .kindergarten), ("kg-dongcheng-01", "dongcheng", .kindergarten),
            ("kg-encheng-01", "encheng", .kindergarten), ("pri-1", "dongcheng", .primary),
            ("ps-dongcheng-01", "dongcheng", .primary), ("ps-encheng-01", "encheng", .primary),
            ("js-encheng-01", "encheng", .junior), ("ny-1", "shahu", .nineYear), ("sh-1", "shahu", .seniorHigh),
            ("sp-1", "encheng", .special),
        ]
        for (id, town, level) in institutions {
            list.append(
                (
                    .registryInstitution,
                    [
                        "institution_id": .string(id), "name": .string(id), "town_id": .string(town),
                        "level": .string(level.rawValue), "ownership": "public",
                    ]
                ))
        }
        return list
    }()

    /// The registry every input starts from (the same each time, so a crash reproduces alone).
    public static let baseRegistry: Registry = {
        var registry = Registry()
        for (type, body) in registrations {
            guard case .success(let feed) = FeedValidator.validate(type, body: body) else {
                fuzzFail("a base registration of \(type.rawValue) does not validate")
            }
            registry.apply(feed)
        }
        return registry
    }()

    /// Validates `body` as a feed of wire type `type` and checks what validation promises:
    /// the same verdict (and the same typed ``Feed``) for the body written and read again,
    /// rejections that name their field,
    /// accepted feeds that keep their body and give a key, and a registry that agrees with the
    /// feed's references and records registrations.
    public static func check(type: String, body: JSONObject) {
        let verdict = FeedValidator.validate(type: type, body: body)
        let rewritten = JSONChecks.parse(JSONWriter.bytes(.object(body)))?.objectValue
        guard let rewritten else { fuzzFail("a body does not survive being written and read again") }
        let again = FeedValidator.validate(type: type, body: rewritten)
        switch (verdict, again) {
        case (.failure(let a), .failure(let b)):
            // Code and path, not the message: it quotes the offending value, and a value can print
            // differently once written and read again (-0.0 is written as 0.0; equal as numbers).
            fuzzCheck(a.code == b.code && a.path == b.path, "the same body is rejected two ways: \(a) / \(b)")
            checkRejection(a, type: type)
        case (.success(let a), .success(let b)):
            // The typed values, not just what is derived from them: every decoded field survives
            // the body being written and read again.
            fuzzCheck(a.feed == b.feed, "the same body decodes to two different values: \(a.feed) / \(b.feed)")
            fuzzCheck(
                a.key == b.key && a.asOf == b.asOf && a.references == b.references && a.townID == b.townID
                    && a.institutionID == b.institutionID,
                "the same body validates to two different feeds: \(a.key) / \(b.key)")
            checkAccepted(a, type: type, body: body)
        case (.success, .failure(let error)), (.failure(let error), .success):
            fuzzFail("the same body is accepted once and rejected once (\(error))")
        }
    }

    static func checkRejection(_ error: WireError, type: String) {
        JSONChecks.roundTrip(error.json)
        switch error.code {
        case .unknownType:
            fuzzCheck(FeedType(rawValue: type) == nil, "a known type \(type) is answered unknown_type")
            fuzzCheck(error.path == "type", "unknown_type at \(error.path ?? "nil"), not at type")
        case .invalidField:
            guard let path = error.path else { fuzzFail("invalid_field without a path: \(error.message)") }
            // Byte-wise: `String.hasPrefix` compares characters, and a member name that starts with a
            // combining mark merges with the "." before it ("body." + "\u{615}d").
            fuzzCheck(
                path == "body" || path.utf8.starts(with: "body.".utf8), "invalid_field outside the body: \(path)")
            fuzzCheck(
                error.message.utf8.starts(with: (path + " ").utf8),
                "the message does not start with its path \(path): \(error.message.debugDescription)")
        default:
            fuzzFail("validation answered \(error.code.rawValue): \(error)")
        }
    }

    static func checkAccepted(_ feed: ValidatedFeed, type: String, body: JSONObject) {
        fuzzCheck(feed.type.rawValue == type, "a \(type) body validated as \(feed.type.rawValue)")
        checkDecoded(feed.feed, body: body)
        fuzzCheck(feed.body == body, "the validated feed does not keep its body")
        fuzzCheck(!feed.key.isEmpty, "an accepted \(type) has an empty key")
        if let asOf = feed.asOf {
            let field = feed.type == .safetyHeartbeat || feed.type == .safetyAlarm ? "at" : "as_of"
            JSONChecks.timestampRoundTrip(asOf, from: body[field]?.stringValue ?? "?")
        }

        var registry = baseRegistry
        let refusal = registry.check(feed.references)
        let expected = feed.references.first { !resolves($0, in: registry) }
        switch (refusal, expected) {
        case (nil, nil):
            break
        case (let refusal?, let reference?):
            fuzzCheck(
                refusal.code == .unknownReference || refusal.code == .invalidField,
                "the registry refused with \(refusal.code.rawValue)")
            fuzzCheck(refusal.path == path(of: reference), "the registry refused at \(refusal.path ?? "nil")")
            JSONChecks.roundTrip(refusal.json)
        case (let refusal?, nil):
            fuzzFail("the registry refused references that resolve: \(refusal)")
        case (nil, let reference?):
            fuzzFail("the registry let through a reference that does not resolve: \(reference)")
        }

        registry.apply(feed)
        switch feed.type {
        case .registryTown:
            fuzzCheck(registry.towns[feed.key]?.id == feed.key, "registry.town \(feed.key) was not recorded")
        case .registryInstitution:
            let recorded = registry.institutions[feed.key]
            fuzzCheck(recorded?.townID == feed.townID, "registry.institution \(feed.key) was not recorded with its town")
            fuzzCheck(registry.town(of: feed) == feed.townID, "the town of a registration is not its town_id")
        default:
            fuzzCheck(
                registry.towns.count == baseRegistry.towns.count
                    && registry.institutions.count == baseRegistry.institutions.count,
                "applying a \(type) changed the registry")
            _ = registry.town(of: feed)
        }
        // What has just been recorded resolves from now on.
        switch feed.type {
        case .registryTown:
            fuzzCheck(registry.check([.town(id: feed.key, path: "p")]) == nil, "town \(feed.key) does not resolve once registered")
        case .registryInstitution:
            let level = body["level"]?.stringValue.flatMap(InstitutionLevel.init(rawValue:))
            fuzzCheck(
                registry.check([.institution(id: feed.key, path: "p", levels: level.map { [$0] })]) == nil,
                "institution \(feed.key) does not resolve at its level once registered")
        default:
            break
        }
    }

    /// The typed value holds what the body says: ids, years and timestamps as written.
    static func checkDecoded(_ feed: Feed, body: JSONObject) {
        if let id = feed.institutionID {
            fuzzCheck(body["institution_id"]?.stringValue == id, "institution \(id) is not the body's institution_id")
        }
        if let id = feed.townID { fuzzCheck(body["town_id"]?.stringValue == id, "town \(id) is not the body's town_id") }
        if let year = feed.year { fuzzCheck(body["year"]?.intValue == year, "year \(year) is not the body's year") }
        switch feed {
        case .safetyHeartbeat(let heartbeat):
            fuzzCheck(
                body["device_kind"]?.stringValue == heartbeat.deviceKind.rawValue && body["status"]?.stringValue == heartbeat.status.rawValue,
                "a heartbeat's kind or status is not the body's")
        case .safetyInventory(let inventory):
            fuzzCheck(
                body["alarm_devices"]?.arrayValue?.compactMap(\.stringValue) == inventory.alarmDevices,
                "an inventory's alarm devices are not the body's")
        case .preschoolCensus(let census):
            fuzzCheck(body["classes"]?.arrayValue?.count == census.classes.count, "a census has another number of classes than its body")
        default:
            break
        }
    }

    /// Whether `reference` resolves in `registry`, worked out independently of ``Registry/check(_:)``.
    static func resolves(_ reference: FeedReference, in registry: Registry) -> Bool {
        switch reference {
        case .town(let id, _):
            return registry.towns[id] != nil
        case .institution(let id, _, let levels):
            guard let institution = registry.institutions[id] else { return false }
            return levels?.contains(institution.level) ?? true
        }
    }

    static func path(of reference: FeedReference) -> String {
        switch reference {
        case .town(_, let path), .institution(_, let path, _): path
        }
    }
}
