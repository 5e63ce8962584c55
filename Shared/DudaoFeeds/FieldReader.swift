import DudaoCore

/// Reads the typed fields of one JSON object of a feed body, throwing an `invalid_field`
/// ``WireError`` whose path names the offending field (`body.classes[2].children`).
///
/// Creating a reader refuses members that are not in the allowed list, so a validator that
/// reads every field it allows has checked the whole object. Paths and messages are only built
/// when something is wrong.
struct FieldReader {
    /// The object being read.
    let object: JSONObject
    /// The path of the object itself: `body` or `body.classes[2]`.
    let path: String

    /// Checks that `object` has no member outside `allowed`, in document order.
    /// - Parameter subject: what the object is, for the message, in English and in Chinese
    ///   ("preschool.census", "幼儿园普查（preschool.census）").
    init(_ object: JSONObject, path: String, allowed: [String], subject: @autoclosure () -> Expected)
        throws(WireError)
    {
        self.object = object
        self.path = path
        for member in object.members where !allowed.contains(member.key) {
            let fieldPath = path + "." + FieldReader.clip(member.key, to: 64)
            let what = subject()
            throw WireError(
                .invalidField,
                "\(fieldPath) is not a field of \(what.en); allowed: \(allowed.joined(separator: ", "))",
                zh: "\(fieldPath) 不是\(what.zh)的字段；允许的字段：\(allowed.joined(separator: "、"))",
                path: fieldPath)
        }
    }

    // MARK: - Paths and errors

    /// The path of member `name`.
    func path(_ name: String) -> String { path + "." + name }

    /// `<path> is missing; it must be <expected>` (缺少字段 <path>，应为<expected>).
    func missing(_ name: String, _ expected: Expected) -> WireError {
        let fieldPath = path(name)
        return WireError(
            .invalidField, "\(fieldPath) is missing; it must be \(expected.en)", zh: "缺少字段 \(fieldPath)，应为\(expected.zh)",
            path: fieldPath)
    }

    /// `<path> must be <expected>, got <value>`.
    func wrong(_ name: String, _ expected: Expected, got value: JSONValue) -> WireError {
        FieldReader.wrong(at: path(name), expected, got: value)
    }

    /// `<path> must be <expected>, got <value>` (字段 <path> 应为<expected>，实际为<value>) for any path.
    static func wrong(at path: String, _ expected: Expected, got value: JSONValue) -> WireError {
        WireError(
            .invalidField, "\(path) must be \(expected.en), got \(describe(value))",
            zh: "字段 \(path) 应为\(expected.zh)，实际为\(describe(value, zh: true))", path: path)
    }

    /// An `invalid_field` error at member `name` with a message the caller words, in English
    /// and in Chinese (each gets the field's path).
    func invalid(_ name: String, _ message: (String) -> String, zh: (String) -> String) -> WireError {
        let fieldPath = path(name)
        return WireError(.invalidField, message(fieldPath), zh: zh(fieldPath), path: fieldPath)
    }

    /// Throws unless `value` of member `name` is at most `limit`, the value of member `limitName`.
    func requireNotAbove(_ name: String, _ value: Int64, _ limitName: String, _ limit: Int64) throws(WireError) {
        guard value <= limit else {
            throw invalid(name, { "\($0) (\(value)) must not exceed \(path(limitName)) (\(limit))" },
                zh: { "字段 \($0)（\(value)）不得大于 \(path(limitName))（\(limit)）" })
        }
    }

    // MARK: - Raw members

    /// Member `name`; missing → error naming `expected`.
    func required(_ name: String, _ expected: @autoclosure () -> Expected) throws(WireError) -> JSONValue {
        guard let value = object[name] else { throw missing(name, expected()) }
        return value
    }

    /// Member `name`, or nil when absent or `null`.
    func optional(_ name: String) -> JSONValue? {
        guard let value = object[name] else { return nil }
        if case .null = value { return nil }
        return value
    }

    // MARK: - Numbers

    /// A count: an integer >= 0 (`3.0` and `3.5` are not counts).
    func count(_ name: String) throws(WireError) -> Int64 {
        let value = try required(name, Expected.count)
        guard case .int(let number) = value, number >= 0 else { throw wrong(name, Expected.count, got: value) }
        return number
    }

    /// An integer within `range`.
    func integer(_ name: String, in range: ClosedRange<Int64>) throws(WireError) -> Int64 {
        let value = try required(name, Expected.integer(range))
        guard case .int(let number) = value, range.contains(number) else {
            throw wrong(name, Expected.integer(range), got: value)
        }
        return number
    }

    /// `year`: an integer from 2000 to 2100.
    func year() throws(WireError) -> Int64 { try integer("year", in: FeedValidator.years) }

    /// Money: a decimal number >= 0 (integer or not).
    func money(_ name: String) throws(WireError) -> Double {
        let value = try required(name, Expected.money)
        switch value {
        case .int(let number) where number >= 0: return Double(number)
        case .double(let number) where number >= 0 && number.isFinite: return number
        default: throw wrong(name, Expected.money, got: value)
        }
    }

    /// An optional count: an integer >= 0, absent or `null` → nil.
    func optionalCount(_ name: String) throws(WireError) -> Int64? {
        guard let value = optional(name) else { return nil }
        guard case .int(let number) = value, number >= 0 else { throw wrong(name, Expected.count, got: value) }
        return number
    }

    /// An optional amount (an area, …): a number >= 0, absent or `null` → nil.
    func optionalMoney(_ name: String) throws(WireError) -> Double? {
        guard let value = optional(name) else { return nil }
        switch value {
        case .int(let number) where number >= 0: return Double(number)
        case .double(let number) where number >= 0 && number.isFinite: return number
        default: throw wrong(name, Expected.money, got: value)
        }
    }

    // MARK: - Strings

    /// An id: 1–64 characters of `[A-Za-z0-9._-]`.
    func identifier(_ name: String) throws(WireError) -> String {
        let value = try required(name, Expected.identifier)
        guard case .string(let text) = value, FieldReader.isIdentifier(text) else {
            throw wrong(name, Expected.identifier, got: value)
        }
        return text
    }

    /// A name: not blank, at most `maxLength` characters, no control characters.
    func text(_ name: String, maxLength: Int) throws(WireError) -> String {
        let value = try required(name, Expected.text(maxLength))
        guard case .string(let text) = value, FieldReader.isText(text, maxLength: maxLength, allowControl: false)
        else { throw wrong(name, Expected.text(maxLength), got: value) }
        return text
    }

    /// Optional free text of at most `maxLength` characters (line breaks allowed); absent or
    /// `null` → nil.
    func optionalNote(_ name: String, maxLength: Int) throws(WireError) -> String? {
        guard let value = optional(name) else { return nil }
        guard case .string(let text) = value, text.utf8.count <= maxLength || text.count <= maxLength else {
            throw wrong(name, Expected.note(maxLength), got: value)
        }
        return text
    }

    /// One of `options`, exactly.
    func choice(_ name: String, among options: [String]) throws(WireError) -> String {
        let value = try required(name, Expected.oneOf(options))
        guard case .string(let text) = value, options.contains(text) else {
            throw wrong(name, Expected.oneOf(options), got: value)
        }
        return text
    }

    /// One case of `E`, by raw value.
    func choice<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws(WireError) -> E
    where E.RawValue == String {
        let value = try required(name, Expected.oneOf(E.allCases.map(\.rawValue)))
        guard case .string(let text) = value, let result = E(rawValue: text) else {
            throw wrong(name, Expected.oneOf(E.allCases.map(\.rawValue)), got: value)
        }
        return result
    }

    /// An RFC 3339 timestamp.
    func timestamp(_ name: String) throws(WireError) -> Timestamp {
        let value = try required(name, Expected.timestamp)
        guard case .string(let text) = value, let stamp = Timestamp(rfc3339: text) else {
            throw wrong(name, Expected.timestamp, got: value)
        }
        return stamp
    }

    /// An optional RFC 3339 timestamp; absent or `null` → nil.
    func optionalTimestamp(_ name: String) throws(WireError) -> Timestamp? {
        guard let value = optional(name) else { return nil }
        guard case .string(let text) = value, let stamp = Timestamp(rfc3339: text) else {
            throw wrong(name, Expected.timestamp, got: value)
        }
        return stamp
    }

    /// A calendar date `YYYY-MM-DD`.
    func date(_ name: String) throws(WireError) -> String {
        let value = try required(name, Expected.date)
        guard case .string(let text) = value, Timestamp.isValidDate(text) else {
            throw wrong(name, Expected.date, got: value)
        }
        return text
    }

    // MARK: - Booleans, arrays, objects

    /// `true` or `false`.
    func bool(_ name: String) throws(WireError) -> Bool {
        let value = try required(name, Expected.bool)
        guard case .bool(let flag) = value else { throw wrong(name, Expected.bool, got: value) }
        return flag
    }

    /// An optional boolean; absent or `null` → nil.
    func optionalBool(_ name: String) throws(WireError) -> Bool? {
        guard let value = optional(name) else { return nil }
        guard case .bool(let flag) = value else { throw wrong(name, Expected.bool, got: value) }
        return flag
    }

    /// An array (possibly empty).
    func array(_ name: String, of elements: @autoclosure () -> Expected) throws(WireError) -> [JSONValue] {
        let value = try required(name, Expected.array(elements()))
        guard case .array(let items) = value else { throw wrong(name, Expected.array(elements()), got: value) }
        return items
    }

    /// An array of objects, each checked against `allowed`; one reader per element, with the
    /// element's path (`body.classes[2]`).
    func objects(_ name: String, allowed: [String], subject: Expected) throws(WireError) -> [FieldReader] {
        let items = try array(name, of: Expected.objects(allowed))
        var readers: [FieldReader] = []
        readers.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let itemPath = "\(path(name))[\(index)]"
            guard case .object(let member) = item else {
                throw FieldReader.wrong(at: itemPath, Expected.object(allowed), got: item)
            }
            readers.append(try FieldReader(member, path: itemPath, allowed: allowed, subject: subject))
        }
        return readers
    }

    /// An object checked against `allowed`.
    func object(_ name: String, allowed: [String]) throws(WireError) -> FieldReader {
        let value = try required(name, Expected.object(allowed))
        guard case .object(let member) = value else { throw wrong(name, Expected.object(allowed), got: value) }
        return try FieldReader(member, path: path(name), allowed: allowed, subject: Expected(en: path(name), zh: " " + path(name) + " "))
    }

    /// An array of ids with no repeats; `what` names one (`device`, `设备`).
    func identifiers(_ name: String, of what: (en: String, zh: String)) throws(WireError) -> [String] {
        let items = try array(name, of: Expected(en: what.en + " ids", zh: what.zh + "编号"))
        var ids: [String] = []
        ids.reserveCapacity(items.count)
        var seen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item, FieldReader.isIdentifier(text) else {
                throw FieldReader.wrong(at: "\(path(name))[\(index)]", Expected.identifier, got: item)
            }
            if let first = seen[text] {
                let itemPath = "\(path(name))[\(index)]"
                throw WireError(
                    .invalidField,
                    "\(itemPath) repeats \(what.en) \"\(text)\", already listed at \(path(name))[\(first)]; list each once",
                    zh: "\(itemPath) 重复了\(what.zh) \"\(text)\"（已在 \(path(name))[\(first)] 列出）；每项只列一次",
                    path: itemPath)
            }
            seen[text] = index
            ids.append(text)
        }
        return ids
    }

    // MARK: - Value checks

    /// Whether `text` is 1–64 characters of `[A-Za-z0-9._-]`.
    static func isIdentifier(_ text: String) -> Bool {
        // Over the contiguous bytes: iterating `text.utf8` cost about 40 instructions a byte.
        var text = text
        return text.withUTF8(isIdentifier)
    }

    /// ``isIdentifier(_:)-(String)`` over a text's UTF-8 bytes.
    static func isIdentifier(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var length = 0
        for byte in utf8 {
            length += 1
            guard length <= 64 else { return false }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return length > 0
    }

    /// Whether `text` is not blank, has at most `maxLength` characters and (unless allowed) no
    /// control characters.
    static func isText(_ text: String, maxLength: Int, allowControl: Bool) -> Bool {
        var blank = true
        for scalar in text.unicodeScalars {
            if !allowControl && (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)) { return false }
            if blank && !scalar.properties.isWhitespace { blank = false }
        }
        if blank { return false }
        return text.utf8.count <= maxLength || text.count <= maxLength
    }

    /// A JSON value as a message shows it: numbers and booleans as written, strings quoted and
    /// clipped, containers by kind. In Chinese (`zh`) a value follows "实际为" after a space, and
    /// the kinds are named in Chinese.
    static func describe(_ value: JSONValue, zh: Bool = false) -> String {
        let space = zh ? " " : ""
        switch value {
        case .null: return space + "null"
        case .bool(let flag): return space + (flag ? "true" : "false")
        case .int(let number): return space + String(number)
        case .double(let number): return space + "\(number)"
        case .string(let text):
            if text.isEmpty { return zh ? "空字符串" : "an empty string" }
            if text.utf8.count > 40, text.count > 40 {
                return zh ? " \"\(clip(text, to: 40))\"（\(text.count) 个字符）" : "\"\(clip(text, to: 40))\" (\(text.count) characters)"
            }
            return space + "\"\(text)\""
        case .array(let items):
            if items.isEmpty { return zh ? "空数组" : "an empty array" }
            return zh ? "数组" : "an array"
        case .object: return zh ? "对象" : "an object"
        }
    }

    static func clip(_ text: String, to limit: Int) -> String {
        if text.utf8.count <= limit { return text }
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "…"
    }
}

/// What a field must be, as messages word it: "must be <en>" and "应为<zh>".
struct Expected {
    let en: String
    let zh: String

    static let count = Expected(en: "an integer >= 0", zh: "大于等于 0 的整数")
    static let money = Expected(en: "a number >= 0", zh: "大于等于 0 的数")
    static let identifier = Expected(
        en: "an id of 1 to 64 characters from A-Z, a-z, 0-9, '.', '_', '-'", zh: "由 A-Z、a-z、0-9、'.'、'_'、'-' 组成的 1 到 64 个字符的编号")
    static let timestamp = Expected(
        en: "an RFC 3339 timestamp such as \"2025-09-30T10:00:00+08:00\"", zh: "RFC 3339 时间，如 \"2025-09-30T10:00:00+08:00\"")
    static let date = Expected(en: "a date \"YYYY-MM-DD\"", zh: "日期 \"YYYY-MM-DD\"")
    static let bool = Expected(en: "true or false", zh: " true 或 false")

    static func integer(_ range: ClosedRange<Int64>) -> Expected {
        Expected(en: "an integer from \(range.lowerBound) to \(range.upperBound)", zh: " \(range.lowerBound) 到 \(range.upperBound) 之间的整数")
    }

    static func text(_ maxLength: Int) -> Expected {
        Expected(en: "a non-blank string of at most \(maxLength) characters", zh: "不超过 \(maxLength) 个字符的非空字符串")
    }

    static func note(_ maxLength: Int) -> Expected {
        Expected(en: "a string of at most \(maxLength) characters", zh: "不超过 \(maxLength) 个字符的字符串")
    }

    static func oneOf(_ options: [String]) -> Expected {
        Expected(
            en: "one of " + options.map { "\"\($0)\"" }.joined(separator: ", "),
            zh: "以下之一：" + options.map { "\"\($0)\"" }.joined(separator: "、"))
    }

    static func object(_ fields: [String]) -> Expected {
        Expected(en: "an object with " + fields.joined(separator: ", "), zh: "含 " + fields.joined(separator: "、") + " 的对象")
    }

    static func objects(_ fields: [String]) -> Expected {
        Expected(en: "objects with " + fields.joined(separator: ", "), zh: "含 " + fields.joined(separator: "、") + " 的对象")
    }

    static func array(_ elements: Expected) -> Expected {
        Expected(en: "an array of \(elements.en)", zh: "数组（元素为\(elements.zh)）")
    }
}
