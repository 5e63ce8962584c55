import DudaoFeeds

/// Resolves field names written in a formula against the feed's schema (SPEC section 3).
struct FieldResolver {
    let feed: FeedType
    let schema: FeedSchema
    /// For item conditions: the item array's name and its fields.
    let items: (name: String, fields: [String: FieldKind])?

    init(feed: FeedType, items: String? = nil) throws(CatalogIssue) {
        self.feed = feed
        self.schema = FeedFields.schema(feed)
        if let items {
            guard let kind = schema.fields[items] else {
                throw CatalogIssue("unknown field \"\(items)\" of \(feed.rawValue); \(FieldResolver.list(schema.fields))")
            }
            switch kind {
            case .objects(let fields): self.items = (items, fields)
            case .identifiers: self.items = (items, [:])
            default:
                throw CatalogIssue("field \"\(items)\" of \(feed.rawValue) is \(kind.label), not an array")
            }
        } else {
            self.items = nil
        }
    }

    /// A field of the record (`a`, `a.b`), of the current item (in item context), or of the
    /// record's registered institution (`institution.ownership`).
    func field(_ text: String) throws(CatalogIssue) -> FieldPath {
        if text.hasPrefix("institution.") {
            let name = String(text.dropFirst("institution.".count))
            guard schema.binding == .institution else {
                throw CatalogIssue(
                    "\"\(text)\": \(feed.rawValue) records do not belong to an institution, so institution.* cannot be used")
            }
            guard let kind = FeedFields.institutionAttributes[name] else {
                throw CatalogIssue(
                    "unknown institution attribute \"\(name)\"; \(FieldResolver.list(FeedFields.institutionAttributes))")
            }
            return FieldPath(source: .institution, keys: [name], text: text, kind: kind)
        }
        if let items {
            guard let kind = items.fields[text] else {
                throw CatalogIssue(
                    "unknown field \"\(text)\" of a \(feed.rawValue) \(items.name) item; \(FieldResolver.list(items.fields))")
            }
            return FieldPath(source: .item, keys: [text], text: text, kind: kind)
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var fields = schema.fields
        var keys: [String] = []
        for (index, part) in parts.enumerated() {
            guard let kind = fields[part] else {
                let owner = keys.isEmpty ? feed.rawValue : feed.rawValue + " " + keys.joined(separator: ".")
                throw CatalogIssue("unknown field \"\(text)\" of \(owner); \(FieldResolver.list(fields))")
            }
            keys.append(part)
            if index == parts.count - 1 { return FieldPath(source: .record, keys: keys, text: text, kind: kind) }
            guard case .object(let nested) = kind else {
                throw CatalogIssue("field \"\(keys.joined(separator: "."))\" of \(feed.rawValue) is \(kind.label), not an object")
            }
            fields = nested
        }
        throw CatalogIssue("empty field name")
    }

    /// A number field to add up: `a`, `a.b` or `items[].b`; returns the path and the item
    /// array it iterates (nil for a record field).
    static func numberField(_ text: String, of feed: FeedType) throws(CatalogIssue) -> (FieldPath, String?) {
        let path: FieldPath
        let items: String?
        if let range = text.firstRange(of: "[].") {
            let array = String(text[..<range.lowerBound])
            let rest = String(text[range.upperBound...])
            path = try FieldResolver(feed: feed, items: array).field(rest)
            items = array
        } else {
            path = try FieldResolver(feed: feed).field(text)
            items = nil
        }
        guard path.source != .institution, path.kind == .number else {
            throw CatalogIssue("field \"\(text)\" of \(feed.rawValue) is \(path.kind.label); only numbers can be summed")
        }
        return (path, items)
    }

    static func list(_ fields: [String: FieldKind]) -> String {
        fields.isEmpty ? "it has no fields" : "fields: " + fields.keys.sorted().joined(separator: ", ")
    }
}
