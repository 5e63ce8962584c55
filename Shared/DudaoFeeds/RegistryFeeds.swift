import DudaoCore

/// `registry.town` and `registry.institution`.
extension FeedValidator {
    static let registryTownFields = ["town_id", "name", "kind", "as_of"]
    static let registryInstitutionFields = [
        "institution_id", "name", "town_id", "level", "ownership", "town_central", "as_of",
    ]
    /// Values of `registry.town` field `kind`.
    static let townKinds = ["town", "street"]
    /// Longest `name` accepted, in characters.
    static let maxNameLength = 200

    static func registryTown(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .registryTown, fields: registryTownFields)
        let townID = try reader.identifier("town_id")
        _ = try reader.text("name", maxLength: maxNameLength)
        _ = try reader.choice("kind", among: townKinds)
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(type: .registryTown, key: townID, asOf: asOf, body: body, townID: townID)
    }

    static func registryInstitution(_ body: JSONObject) throws(WireError) -> ValidatedFeed {
        let reader = try bodyReader(body, .registryInstitution, fields: registryInstitutionFields)
        let institutionID = try reader.identifier("institution_id")
        _ = try reader.text("name", maxLength: maxNameLength)
        let townID = try reader.identifier("town_id")
        let level = try reader.choice("level", InstitutionLevel.self)
        _ = try reader.choice("ownership", Ownership.self)
        if try reader.optionalBool("town_central") == true, level != .kindergarten {
            throw reader.invalid(
                "town_central",
                {
                    "\($0) can be true only for a kindergarten (the town's public central kindergarten), "
                        + "but level is \(level.rawValue); leave it out or set it to false"
                },
                zh: { "字段 \($0) 只有幼儿园（镇中心公办园）可以为 true，而 level 为 \(level.rawValue)；请删去或设为 false" })
        }
        let asOf = try reader.optionalTimestamp("as_of")
        return ValidatedFeed(
            type: .registryInstitution, key: institutionID, asOf: asOf, body: body,
            references: [.town(id: townID, path: "body.town_id")], townID: townID, institutionID: institutionID)
    }
}
