import DudaoCore

/// Dense ids for the scopes the engine has seen: city is 0, towns and institutions follow.
struct ScopeTable {
    private(set) var scopes: [Scope] = [.city]
    private(set) var kinds: [UInt8] = [ScopeKind.city.bit]
    /// ``AffectedKey/fnv(_:)`` of each scope's text.
    private(set) var digests: [UInt64] = [AffectedKey.fnv("city")]
    private var towns: [String: Int32] = [:]
    private var institutions: [String: Int32] = [:]

    static let city: Int32 = 0

    mutating func town(_ id: String) -> Int32 {
        if let existing = towns[id] { return existing }
        let new = append(.town(id))
        towns[id] = new
        return new
    }

    mutating func institution(_ id: String) -> Int32 {
        if let existing = institutions[id] { return existing }
        let new = append(.institution(id))
        institutions[id] = new
        return new
    }

    /// The id of `scope`, if the engine has seen it.
    func existing(_ scope: Scope) -> Int32? {
        switch scope {
        case .city: ScopeTable.city
        case .town(let id): towns[id]
        case .institution(let id): institutions[id]
        }
    }

    private mutating func append(_ scope: Scope) -> Int32 {
        scopes.append(scope)
        kinds.append(scope.kind.bit)
        digests.append(AffectedKey.fnv(scope.text))
        return Int32(scopes.count - 1)
    }
}

/// What the engine knows of a registered institution (a reference: condition contexts carry
/// it around without copying its strings).
final class InstitutionInfo: Equatable {
    let id: String
    let town: String
    let level: String
    let ownership: String
    let townCentral: Bool
    let townScope: Int32
    let scope: Int32

    init(id: String, town: String, level: String, ownership: String, townCentral: Bool, townScope: Int32, scope: Int32) {
        self.id = id
        self.town = town
        self.level = level
        self.ownership = ownership
        self.townCentral = townCentral
        self.townScope = townScope
        self.scope = scope
    }

    static func == (lhs: InstitutionInfo, rhs: InstitutionInfo) -> Bool {
        lhs.id == rhs.id && lhs.town == rhs.town && lhs.level == rhs.level && lhs.ownership == rhs.ownership
            && lhs.townCentral == rhs.townCentral
    }

    /// `institution.<name>` as a JSON value.
    func attribute(_ name: String) -> JSONValue? {
        switch name {
        case "level": .string(level)
        case "ownership": .string(ownership)
        case "town_central": .bool(townCentral)
        case "town_id": .string(town)
        default: nil
        }
    }
}
