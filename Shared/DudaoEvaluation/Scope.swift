/// Where an indicator is evaluated: the whole city, one town (镇/街), or one institution.
public enum Scope: Hashable, Sendable, CustomStringConvertible {
    case city
    case town(String)
    case institution(String)

    /// Parses `city`, `town:<town_id>` or `institution:<institution_id>`; nil for anything else
    /// (including an empty id).
    public init?(_ text: String) {
        if text == "city" {
            self = .city
            return
        }
        if text.hasPrefix("town:") {
            let id = String(text.dropFirst(5))
            guard !id.isEmpty else { return nil }
            self = .town(id)
            return
        }
        if text.hasPrefix("institution:") {
            let id = String(text.dropFirst(12))
            guard !id.isEmpty else { return nil }
            self = .institution(id)
            return
        }
        return nil
    }

    /// `city`, `town:<id>` or `institution:<id>`, as the wire spells it.
    public var text: String {
        switch self {
        case .city: "city"
        case .town(let id): "town:" + id
        case .institution(let id): "institution:" + id
        }
    }

    /// The same as ``text``.
    public var description: String { text }

    /// The kind of scope.
    public var kind: ScopeKind {
        switch self {
        case .city: .city
        case .town: .town
        case .institution: .institution
        }
    }
}

/// The kinds of scope an indicator may list in its catalog `scopes`.
public enum ScopeKind: String, Sendable, CaseIterable, Hashable {
    case city
    case town
    case institution

    /// The bit of this kind in an aggregate's scope mask.
    var bit: UInt8 {
        switch self {
        case .city: 1
        case .town: 2
        case .institution: 4
        }
    }
}
