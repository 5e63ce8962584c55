import DudaoCore

/// JSON Schemas (draft 2020-12) of the envelope and of every feed type's body, generated from
/// the validator's own declarations (``FeedSheet``: its field lists, choices, ranges, lengths),
/// so that they cannot drift from what dudao-ingest accepts. `dudao schema` writes them;
/// `deploy/docs/schemas/` ships them. What a schema cannot say — a count not above another
/// (`certified_teachers` ≤ `full_time_teachers`), unique `class_id`s, registered references —
/// is in each schema's `description` and is checked by the ingest only.
public enum FeedSchemas {
    public static let dialect = "https://json-schema.org/draft/2020-12/schema"
    public static let base = "https://dudao.enping.gov.cn/schemas/"

    /// The file name a type's schema is written to: `feeds/preschool.census.schema.json`.
    public static func fileName(_ type: FeedType) -> String { "feeds/\(type.rawValue).schema.json" }

    static let identifier: JSONValue = ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"]
    /// RFC 3339 as the ingest reads it (`T`, `t` or a space; fraction optional; `Z` or an
    /// offset); days past a month's end are for `format: date-time` to catch.
    static let rfc3339 =
        "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"

    /// Rules beyond the schema, per type, as the ingest words them.
    static let beyond: [FeedType: String] = [
        .registryInstitution: "town_id must name a registered town; town_central may be true for a kindergarten only.",
        .populationCohort: "town_id must name a registered town.",
        .preschoolCensus: "institution_id must name a registered kindergarten; each class_id once in a census; certified_teachers <= full_time_teachers.",
        .compulsoryCensus: "institution_id must name a registered primary, junior, nine-year or special school; each class_id once in a census; migrant_students <= students.",
        .specialPopulation: "enrolled <= disabled_school_age; home_delivered <= disabled_school_age.",
        .surveyRecognition: "satisfied <= respondents.",
        .safetyInventory: "institution_id must name a registered institution; cameras_linked <= cameras.",
        .safetyHeartbeat: "institution_id must name a registered institution.",
        .safetyAlarm: "institution_id must name a registered institution.",
    ]

    public static func feed(_ type: FeedType) -> JSONValue {
        let sheet = FeedSheet.of(type)
        var properties = JSONObject()
        var required: [JSONValue] = []
        var nested: [String: (properties: JSONObject, required: [JSONValue])] = [:]
        var order: [String] = []
        for column in sheet.columns {
            let parts = column.field.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                if nested[parts[0]] == nil {
                    nested[parts[0]] = ([:], [])
                    order.append(parts[0])
                    if !column.optional { required.append(.string(parts[0])) }
                }
                nested[parts[0]]!.properties[parts[1]] = property(column)
                if !column.optional { nested[parts[0]]!.required.append(.string(parts[1])) }
            } else {
                order.append(column.field)
                properties[column.field] = property(column)
                if !column.optional { required.append(.string(column.field)) }
            }
        }
        var ordered = JSONObject()
        for name in order {
            if let inner = nested[name] {
                let object: JSONValue = [
                    "type": "object", "additionalProperties": false, "required": .array(inner.required),
                    "properties": .object(inner.properties),
                ]
                ordered[name] = name == sheet.rowsField ? ["type": "array", "items": object] : object
            } else {
                ordered[name] = properties[name]
            }
        }
        var description = "The body of a \(type.rawValue) feed (SPEC section 3)."
        if let rules = beyond[type] { description += " Checked by dudao-ingest beyond this schema: " + rules }
        return [
            "$schema": .string(dialect), "$id": .string(base + fileName(type)),
            "title": .string("\(type.rawValue) — \(sheet.titleZh)"), "description": .string(description),
            "type": "object", "additionalProperties": false, "required": .array(required), "properties": .object(ordered),
        ]
    }

    static func property(_ column: FeedColumn) -> JSONValue {
        var schema: JSONObject
        switch column.kind {
        case .identifier: schema = identifier.objectValue ?? [:]
        case .text:
            schema = ["type": "string"]
            if column.field != "note" { schema["pattern"] = "^(?=.*\\S)[^\\u0000-\\u001f\\u007f-\\u009f]*$" }
            if let maxLength = column.maxLength { schema["maxLength"] = .int(Int64(maxLength)) }
        case .choice(let values): schema = ["type": "string", "enum": .array(values.map(JSONValue.string))]
        case .integer:
            let range = column.range ?? 0...Int64.max
            schema = ["type": "integer", "minimum": .int(range.lowerBound)]
            if range.upperBound != Int64.max { schema["maximum"] = .int(range.upperBound) }
        case .number: schema = ["type": "number", "minimum": 0]
        case .bool: schema = ["type": "boolean"]
        case .date: schema = ["type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"]
        case .timestamp: schema = ["type": "string", "format": "date-time", "pattern": .string(rfc3339)]
        case .identifiers: schema = ["type": "array", "items": identifier, "uniqueItems": true]
        }
        // An optional field may also be null, which the ingest reads as absent.
        if column.optional, let type = schema["type"] { schema["type"] = [type, "null"] }
        var result: JSONObject = ["description": .string(column.zh)]
        for (key, value) in schema { result[key] = value }
        return .object(result)
    }

    /// The feed envelope (SPEC section 2): `v`, `kind`, `id`, `type`, `body`, the body checked
    /// against its type's schema.
    public static func envelope() -> JSONValue {
        let types = FeedType.allCases
        let dispatch: [JSONValue] = types.map { type in
            [
                "if": ["properties": ["type": ["const": .string(type.rawValue)]], "required": ["type"]],
                "then": ["properties": ["body": ["$ref": .string(base + fileName(type))]]],
            ]
        }
        return [
            "$schema": .string(dialect), "$id": .string(base + "envelope.schema.json"),
            "title": "Dudao feed envelope", "description": "One feed frame sent to dudao-ingest (SPEC section 2).",
            "type": "object", "additionalProperties": false, "required": ["v", "kind", "id", "type", "body"],
            "properties": [
                "v": ["const": 1], "kind": ["const": "feed"],
                "id": ["type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"],
                "type": ["type": "string", "enum": .array(types.map { .string($0.rawValue) })],
                "body": ["type": "object"],
            ],
            "allOf": .array(dispatch),
        ]
    }
}
