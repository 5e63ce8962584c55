import DudaoCore
import DudaoService
import Foundation

/// Who may log in: `{"accounts": {"zhang": {"password_bcrypt": "$2b$...", "role": "bureau",
/// "towns": ["dongcheng"], "name": "张三"}}}`.
struct Account: Sendable, Equatable {
    enum Role: String, Sendable {
        /// The education bureau: the whole city.
        case bureau
        /// Safety staff (public security): the whole city.
        case safety
        /// Town staff: only `towns`.
        case town
    }

    var username: String
    var passwordHash: String
    var role: Role
    /// For `town` accounts, the towns they may see; `nil`: every town.
    var towns: Set<String>?
    /// The person's name, recorded when they acknowledge an alarm.
    var name: String

    func maySee(town: String?) -> Bool {
        guard let towns else { return true }
        guard let town else { return false }
        return towns.contains(town)
    }

    var seesCity: Bool { towns == nil }
}

enum AccountsFile {
    static func load(path: String) throws(ConfigError) -> [String: Account] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the accounts file")
        }
        let bytes = Array(data)
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw ConfigError("\(path): line \(error.line(in: bytes)): not valid JSON (\(error))")
        }
        guard let accounts = root["accounts"]?.objectValue else { throw ConfigError("\(path): accounts must be an object") }
        var result: [String: Account] = [:]
        for (username, value) in accounts {
            let at = "\(path): accounts.\(username)"
            guard let hash = value["password_bcrypt"]?.stringValue, hash.hasPrefix("$2") else {
                throw ConfigError("\(at).password_bcrypt must be a bcrypt hash (dudao-web hash-password)")
            }
            guard let roleText = value["role"]?.stringValue, let role = Account.Role(rawValue: roleText) else {
                throw ConfigError("\(at).role must be \"bureau\", \"safety\" or \"town\"")
            }
            var towns: Set<String>?
            if role == .town {
                let list = (value["towns"]?.arrayValue ?? []).compactMap(\.stringValue)
                guard !list.isEmpty else { throw ConfigError("\(at).towns must list the towns a town account may see") }
                towns = Set(list)
            }
            let name = value["name"]?.stringValue ?? username
            result[username] = Account(username: username, passwordHash: hash, role: role, towns: towns, name: name)
        }
        return result
    }
}
