import DudaoCore
import Foundation

/// Who may do what, read from the access file (data, not code).
///
/// ```json
/// {"identities": {
///   "town-dongcheng": {"feeds": ["preschool.census", "safety.inventory"], "towns": ["dongcheng"]},
///   "police-video-platform": {"feeds": ["safety.*"]},
///   "dudao-indicators": {"role": "service"},
///   "operator": {"role": "operator"}}}
/// ```
///
/// A grant lists patterns: an exact type, a prefix ending in `.*`, or `*`. `role: service` may
/// query, subscribe and send events to everything; `role: operator` may also send every feed. Anything not
/// granted is `forbidden`.
public struct AccessPolicy: Sendable {
    public struct Grant: Sendable, Equatable {
        public var feeds: [String] = []
        public var queries: [String] = []
        public var subscribe = false
        /// Event types this identity may send to `dudao-notify` (services: `*`).
        public var events: [String] = []
        /// When set, feeds are allowed only for records of these towns.
        public var towns: Set<String>?
    }

    public private(set) var grants: [String: Grant]

    public init(grants: [String: Grant]) { self.grants = grants }

    /// Reads an access file; a mistake is reported with the identity and member at fault.
    public init(path: String) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the access file")
        }
        let bytes = Array(data)
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw ConfigError("\(path): line \(error.line(in: bytes)): not valid JSON (\(error))")
        }
        guard let identities = value["identities"]?.objectValue else {
            throw ConfigError("\(path): needs an \"identities\" object")
        }
        var grants: [String: Grant] = [:]
        for (name, entry) in identities {
            guard let object = entry.objectValue else { throw ConfigError("\(path): identities.\(name) must be an object") }
            var grant = Grant()
            for (member, value) in object {
                func strings() throws(ConfigError) -> [String] {
                    guard let array = value.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                        throw ConfigError("\(path): identities.\(name).\(member) must be an array of strings")
                    }
                    return array.compactMap(\.stringValue)
                }
                switch member {
                case "role":
                    switch value.stringValue {
                    case "service":
                        grant.queries = ["*"]
                        grant.subscribe = true
                        grant.events = ["*"]
                    case "operator":
                        grant.feeds = ["*"]
                        grant.queries = ["*"]
                        grant.subscribe = true
                    default:
                        throw ConfigError("\(path): identities.\(name).role must be \"service\" or \"operator\"")
                    }
                case "feeds": grant.feeds += try strings()
                case "queries": grant.queries += try strings()
                case "events": grant.events += try strings()
                case "towns": grant.towns = Set(try strings())
                case "subscribe":
                    guard let flag = value.boolValue else {
                        throw ConfigError("\(path): identities.\(name).subscribe must be true or false")
                    }
                    grant.subscribe = flag
                default:
                    throw ConfigError(
                        "\(path): identities.\(name).\(member) is not known; use role, feeds, queries, events, towns, subscribe")
                }
            }
            grants[name] = grant
        }
        self.grants = grants
    }

    /// Whether `pattern` (`x`, `x.*`, `*`) covers `type` (``NamePattern``).
    public static func matches(_ pattern: String, _ type: String) -> Bool { NamePattern.matches(pattern, type) }

    public func grant(for identity: String) -> Grant? { grants[identity] }

    /// `nil` when `identity` may send feeds of `type`, else the `forbidden` error.
    public func checkFeed(identity: String, type: String) -> WireError? {
        guard let grant = grants[identity] else {
            return WireError(.forbidden, "identity \"\(identity)\" is not in the access file", zh: "身份 \"\(identity)\" 不在访问控制文件中")
        }
        guard grant.feeds.contains(where: { Self.matches($0, type) }) else {
            return WireError(.forbidden, "identity \"\(identity)\" may not send \(type) feeds", zh: "字段 type：身份 \"\(identity)\" 无权发送 \(type) 数据", path: "type")
        }
        return nil
    }

    /// `nil` when `identity` may send events of `type` (to `dudao-notify`), else the `forbidden` error.
    public func checkEvent(identity: String, type: String) -> WireError? {
        guard let grant = grants[identity], grant.events.contains(where: { Self.matches($0, type) }) else {
            return WireError(.forbidden, "identity \"\(identity)\" may not send \(type) events", zh: "字段 type：身份 \"\(identity)\" 无权发送 \(type) 事件", path: "type")
        }
        return nil
    }

    /// `nil` when `identity` may ask `type` queries, else the `forbidden` error.
    public func checkQuery(identity: String, type: String) -> WireError? {
        guard let grant = grants[identity], grant.queries.contains(where: { Self.matches($0, type) }) else {
            return WireError(.forbidden, "identity \"\(identity)\" may not ask \(type) queries", zh: "字段 type：身份 \"\(identity)\" 无权查询 \(type)", path: "type")
        }
        return nil
    }
}
