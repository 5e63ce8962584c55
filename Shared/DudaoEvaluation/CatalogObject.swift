import DudaoCore

/// Strict reading of one object of the catalog: members outside `allowed` are refused, and
/// each getter says what it expected.
struct CatalogObject {
    let object: JSONObject
    /// What the object is, for messages ("formula.ratio.numerator.sum").
    let what: String

    init(_ value: JSONValue, _ what: String, allowed: [String]) throws(CatalogIssue) {
        guard case .object(let object) = value else {
            throw CatalogIssue("\(what) must be an object, got \(value.typeName)")
        }
        for member in object.members where !allowed.contains(member.key) {
            throw CatalogIssue(
                "unknown member \"\(member.key)\" in \(what); allowed: \(allowed.joined(separator: ", "))")
        }
        self.object = object
        self.what = what
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func required(_ key: String) throws(CatalogIssue) -> JSONValue {
        guard let value = object[key] else { throw CatalogIssue("\(what).\(key) is missing") }
        return value
    }

    func string(_ key: String) throws(CatalogIssue) -> String {
        let value = try required(key)
        guard case .string(let text) = value, !text.isEmpty else {
            throw CatalogIssue("\(what).\(key) must be a non-empty string, got \(describe(value))")
        }
        return text
    }

    func optionalString(_ key: String) throws(CatalogIssue) -> String? {
        guard let value = object[key], value != .null else { return nil }
        return try string(key)
    }

    func number(_ key: String) throws(CatalogIssue) -> Double {
        let value = try required(key)
        guard let number = value.doubleValue, number.isFinite else {
            throw CatalogIssue("\(what).\(key) must be a number, got \(describe(value))")
        }
        return number
    }

    func optionalNumber(_ key: String) throws(CatalogIssue) -> Double? {
        guard object[key] != nil else { return nil }
        return try number(key)
    }

    func array(_ key: String) throws(CatalogIssue) -> [JSONValue] {
        let value = try required(key)
        guard case .array(let elements) = value else {
            throw CatalogIssue("\(what).\(key) must be an array, got \(describe(value))")
        }
        return elements
    }

    func optionalArray(_ key: String) throws(CatalogIssue) -> [JSONValue] {
        guard object[key] != nil else { return [] }
        return try array(key)
    }

    func strings(_ key: String) throws(CatalogIssue) -> [String] {
        var result: [String] = []
        for (index, element) in try array(key).enumerated() {
            guard case .string(let text) = element, !text.isEmpty else {
                throw CatalogIssue("\(what).\(key)[\(index)] must be a non-empty string, got \(describe(element))")
            }
            result.append(text)
        }
        return result
    }
}

/// A short rendering of a JSON value for messages.
func describe(_ value: JSONValue) -> String {
    switch value {
    case .string(let s): "\"" + (s.count > 40 ? String(s.prefix(40)) + "…" : s) + "\""
    case .array, .object: value.typeName
    default: JSONWriter.string(value)
    }
}
