import DudaoCore
import DudaoFeeds

/// A query's `scope`: `city`, `town:<id>` or `institution:<id>`.
enum SafetyScope: Sendable, Hashable, CustomStringConvertible {
    case city
    case town(String)
    case institution(String)

    /// Reads `body.scope` (default `city`), checking that the town or institution is registered.
    static func parse(_ body: JSONObject, registry: Registry) -> Result<SafetyScope, WireError> {
        guard let value = body["scope"] else { return .success(.city) }
        guard let text = value.stringValue else {
            return .failure(WireError(.invalidField, "body.scope must be a string: city, town:<id> or institution:<id>", path: "body.scope"))
        }
        if text == "city" { return .success(.city) }
        if text.hasPrefix("town:") {
            let id = String(text.dropFirst(5))
            guard registry.towns[id] != nil else {
                return .failure(WireError(.unknownReference, "town \"\(id)\" is not registered", path: "body.scope"))
            }
            return .success(.town(id))
        }
        if text.hasPrefix("institution:") {
            let id = String(text.dropFirst(12))
            guard registry.institutions[id] != nil else {
                return .failure(WireError(.unknownReference, "institution \"\(id)\" is not registered", path: "body.scope"))
            }
            return .success(.institution(id))
        }
        return .failure(WireError(.invalidField, "body.scope must be city, town:<id> or institution:<id>, got \"\(text)\"", path: "body.scope"))
    }

    var description: String {
        switch self {
        case .city: "city"
        case .town(let id): "town:\(id)"
        case .institution(let id): "institution:\(id)"
        }
    }

    /// Whether the institution `id` (with its registry entry, if any) is in this scope.
    func contains(_ id: String, _ institution: Registry.Institution?) -> Bool {
        switch self {
        case .city: true
        case .town(let town): institution?.townID == town
        case .institution(let only): id == only
        }
    }
}
