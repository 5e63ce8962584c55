import DudaoCore

/// The registered towns and institutions, as the ingest knows them (in memory).
///
/// Built by replaying accepted `registry.town` / `registry.institution` feeds with
/// ``apply(_:)``; consulted with ``check(_:)`` before a feed is accepted.
public struct Registry: Sendable {
    /// A registered town or street (镇/街).
    public struct Town: Sendable, Equatable {
        public var id: String
        public var name: String
        public var kind: TownKind

        public init(id: String, name: String, kind: TownKind) {
            self.id = id
            self.name = name
            self.kind = kind
        }
    }

    /// A registered institution.
    public struct Institution: Sendable, Equatable {
        public var id: String
        public var name: String
        public var townID: String
        public var level: InstitutionLevel
        public var ownership: Ownership
        /// The town's public central kindergarten (公办中心幼儿园).
        public var townCentral: Bool

        public init(
            id: String, name: String, townID: String, level: InstitutionLevel, ownership: Ownership,
            townCentral: Bool = false
        ) {
            self.id = id
            self.name = name
            self.townID = townID
            self.level = level
            self.ownership = ownership
            self.townCentral = townCentral
        }
    }

    /// Towns by id.
    public private(set) var towns: [String: Town]
    /// Institutions by id.
    public private(set) var institutions: [String: Institution]

    /// An empty registry.
    public init() {
        towns = [:]
        institutions = [:]
    }

    /// nil when every reference resolves; else `unknown_reference` ("town \"x\" is not
    /// registered; send registry.town first") at the reference's path or, for an institution of
    /// the wrong level, `invalid_field` naming the level found and the levels allowed.
    public func check(_ references: [FeedReference]) -> WireError? {
        for reference in references {
            switch reference {
            case .town(let id, let path):
                if towns[id] == nil {
                    return WireError(
                        .unknownReference, "town \"\(id)\" is not registered; send registry.town first",
                        zh: "字段 \(path)：镇街 \"\(id)\" 未登记；请先发送 registry.town", path: path)
                }
            case .institution(let id, let path, let levels):
                guard let institution = institutions[id] else {
                    return WireError(
                        .unknownReference, "institution \"\(id)\" is not registered; send registry.institution first",
                        zh: "字段 \(path)：机构 \"\(id)\" 未登记；请先发送 registry.institution", path: path)
                }
                if let levels, !levels.contains(institution.level) {
                    let allowed = InstitutionLevel.allCases.filter(levels.contains).map(\.rawValue)
                    let expected = allowed.count == 1 ? "level \(allowed[0])" : "one of the levels " + allowed.joined(separator: ", ")
                    return WireError(
                        .invalidField,
                        "institution \"\(id)\" is registered with level \(institution.level.rawValue), "
                            + "but this feed is only for \(expected)",
                        zh: "字段 \(path)：机构 \"\(id)\" 登记的 level 为 \(institution.level.rawValue)，而此类数据只适用于 level "
                            + allowed.joined(separator: "、"),
                        path: path)
                }
            }
        }
        return nil
    }

    /// Records registry.town / registry.institution feeds (ignores other types). A later feed
    /// for the same id replaces the earlier record.
    public mutating func apply(_ feed: ValidatedFeed) { apply(feed.feed) }

    /// Records a registry.town / registry.institution value (ignores other types).
    public mutating func apply(_ feed: Feed) {
        switch feed {
        case .registryTown(let town):
            towns[town.townID] = Town(id: town.townID, name: town.name, kind: town.kind)
        case .registryInstitution(let institution):
            institutions[institution.institutionID] = Institution(
                id: institution.institutionID, name: institution.name, townID: institution.townID, level: institution.level,
                ownership: institution.ownership, townCentral: institution.townCentral)
        default:
            return
        }
    }

    /// The town of a feed for access control: `feed.townID`, or the registered town of
    /// `feed.institutionID`; nil if none.
    public func town(of feed: ValidatedFeed) -> String? { town(of: feed.feed) }

    /// The town of a feed value: its `town_id`, or the registered town of its institution.
    public func town(of feed: Feed) -> String? {
        if let townID = feed.townID { return townID }
        if let institutionID = feed.institutionID { return institutions[institutionID]?.townID }
        return nil
    }
}
