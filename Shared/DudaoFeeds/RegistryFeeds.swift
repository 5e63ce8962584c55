import DudaoCore

/// `registry.town`: a town or street (镇/街) and its name.
public struct RegistryTown: Sendable, Equatable {
    public var townID: String
    public var name: String
    public var kind: TownKind
    public var asOf: Timestamp?

    public init(townID: String, name: String, kind: TownKind, asOf: Timestamp? = nil) {
        self.townID = townID
        self.name = name
        self.kind = kind
        self.asOf = asOf
    }
}

/// `registry.institution`: a school or kindergarten, its town, level and ownership.
public struct RegistryInstitution: Sendable, Equatable {
    public var institutionID: String
    public var name: String
    public var townID: String
    public var level: InstitutionLevel
    public var ownership: Ownership
    /// The town's public central kindergarten (公办中心幼儿园); absent = false.
    public var townCentral: Bool
    public var asOf: Timestamp?

    public init(
        institutionID: String, name: String, townID: String, level: InstitutionLevel, ownership: Ownership,
        townCentral: Bool = false, asOf: Timestamp? = nil
    ) {
        self.institutionID = institutionID
        self.name = name
        self.townID = townID
        self.level = level
        self.ownership = ownership
        self.townCentral = townCentral
        self.asOf = asOf
    }
}

extension FeedValidator {
    static let registryTownFields = ["town_id", "name", "kind", "as_of"]
    static let registryInstitutionFields = [
        "institution_id", "name", "town_id", "level", "ownership", "town_central", "as_of",
    ]
    /// Longest `name` accepted, in characters.
    static let maxNameLength = 200

    static func registryTown(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .registryTown, fields: registryTownFields)
        return .registryTown(
            RegistryTown(
                townID: try reader.identifier("town_id"), name: try reader.text("name", maxLength: maxNameLength),
                kind: try reader.choice("kind", TownKind.self), asOf: try reader.optionalTimestamp("as_of")))
    }

    static func registryInstitution(_ body: JSONObject) throws(WireError) -> Feed {
        let reader = try bodyReader(body, .registryInstitution, fields: registryInstitutionFields)
        let institutionID = try reader.identifier("institution_id")
        let name = try reader.text("name", maxLength: maxNameLength)
        let townID = try reader.identifier("town_id")
        let level = try reader.choice("level", InstitutionLevel.self)
        let ownership = try reader.choice("ownership", Ownership.self)
        let townCentral = try reader.optionalBool("town_central") ?? false
        if townCentral, level != .kindergarten {
            throw reader.invalid(
                "town_central",
                {
                    "\($0) can be true only for a kindergarten (the town's public central kindergarten), "
                        + "but level is \(level.rawValue); leave it out or set it to false"
                },
                zh: { "字段 \($0) 只有幼儿园（镇中心公办园）可以为 true，而 level 为 \(level.rawValue)；请删去或设为 false" })
        }
        return .registryInstitution(
            RegistryInstitution(
                institutionID: institutionID, name: name, townID: townID, level: level, ownership: ownership,
                townCentral: townCentral, asOf: try reader.optionalTimestamp("as_of")))
    }
}
