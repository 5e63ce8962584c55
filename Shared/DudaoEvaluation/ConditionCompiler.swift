import DudaoCore

/// Compiles the conditions of a formula (`where`, `where_item`, `match`, joined `where`).
///
/// ```
/// {"field": F, "in": [v...]}                   {"field": F, "not_in": [v...]}
/// {"field": F, "op": "<=", "value": v}         ops: == != < <= > >=
/// {"field": F, "op": ">=", "other_field": G, "min": 1}     F >= max(G, 1)
/// {"field": F, "op": "<=", "by": G, "values": {"small": 25, ...}}   limit chosen by G
/// {"field": F, "op": "nonempty"}               {"field": F, "op": "empty"}
/// {"any": [COND...]}                           {"all": [COND...]}
/// ```
struct ConditionCompiler {
    let resolver: FieldResolver

    func conditions(_ values: [JSONValue], _ what: String) throws(CatalogIssue) -> [Condition] {
        var result: [Condition] = []
        for (index, value) in values.enumerated() {
            result.append(try condition(value, "\(what)[\(index)]"))
        }
        return result
    }

    func condition(_ value: JSONValue, _ what: String) throws(CatalogIssue) -> Condition {
        if value["any"] != nil || value["all"] != nil {
            let isAny = value["any"] != nil
            let name = isAny ? "any" : "all"
            let object = try CatalogObject(value, what, allowed: [name])
            let parts = try conditions(try object.array(name), what + "." + name)
            guard !parts.isEmpty else { throw CatalogIssue("\(what).\(name) must list at least one condition") }
            return isAny ? .any(parts) : .all(parts)
        }
        guard case .object(let raw) = value else {
            throw CatalogIssue("\(what) must be a condition object, got \(value.typeName)")
        }
        if raw["in"] != nil || raw["not_in"] != nil {
            let name = raw["in"] != nil ? "in" : "not_in"
            let object = try CatalogObject(value, what, allowed: ["field", name])
            let field = try resolver.field(try object.string("field"))
            let values = try object.array(name)
            guard !values.isEmpty else { throw CatalogIssue("\(what).\(name) must list at least one value") }
            var scalars: [Scalar] = []
            for (index, element) in values.enumerated() {
                scalars.append(try scalar(element, for: field, "\(what).\(name)[\(index)]"))
            }
            return .test(field, name == "in" ? .oneOf(scalars) : .noneOf(scalars))
        }
        guard raw["op"] != nil else {
            throw CatalogIssue("\(what) needs \"in\", \"not_in\" or \"op\" (or is {\"any\": [...]}/{\"all\": [...]})")
        }
        let opText = try CatalogObject(value, what, allowed: raw.keys).string("op")
        if opText == "nonempty" || opText == "empty" {
            let object = try CatalogObject(value, what, allowed: ["field", "op"])
            let field = try resolver.field(try object.string("field"))
            switch field.kind {
            case .identifiers, .objects: break
            default: throw CatalogIssue("\(what): \"\(opText)\" needs an array field; \(field.text) is \(field.kind.label)")
            }
            return .test(field, opText == "nonempty" ? .nonEmpty : .empty)
        }
        guard let op = Comparison(rawValue: opText) else {
            let ops = Comparison.allCases.map(\.rawValue).joined(separator: " ")
            throw CatalogIssue("\(what).op \"\(opText)\" is not an operator; use one of \(ops) nonempty empty")
        }
        if raw["per"] != nil {
            let object = try CatalogObject(value, what, allowed: ["field", "op", "per", "value"])
            let field = try numeric(try object.string("field"), what)
            guard field.source == .record else { throw CatalogIssue("\(what): per compares a field of the record") }
            let perText = try object.string("per")
            let (itemField, items) = try FieldResolver.numberField(perText, of: resolver.feed)
            guard let items else {
                throw CatalogIssue("\(what).per must be a number of each item, such as \"classes[].children\"; got \"\(perText)\"")
            }
            let limit = try object.number("value")
            guard limit > 0 else { throw CatalogIssue("\(what).value must be > 0 (an amount per item unit)") }
            return .test(field, .comparePer(op, items: items, itemField: itemField.keys[0], value: limit))
        }
        if raw["other_field"] != nil {
            let object = try CatalogObject(value, what, allowed: ["field", "op", "other_field", "min"])
            let field = try numeric(try object.string("field"), what)
            let other = try numeric(try object.string("other_field"), what)
            return .test(field, .compareField(op, other: other, minimum: try object.optionalNumber("min")))
        }
        if raw["by"] != nil {
            let object = try CatalogObject(value, what, allowed: ["field", "op", "by", "values"])
            let field = try numeric(try object.string("field"), what)
            let by = try resolver.field(try object.string("by"))
            guard case .text(let choices) = by.kind else {
                throw CatalogIssue("\(what).by must name a text field; \(by.text) is \(by.kind.label)")
            }
            let table = try CatalogObject(try object.required("values"), what + ".values", allowed: choices ?? [])
            guard table.object.count > 0 else { throw CatalogIssue("\(what).values must give at least one limit") }
            var limits: [String: Double] = [:]
            for member in table.object.members { limits[member.key] = try table.number(member.key) }
            return .test(field, .compareBy(op, by: by, limits: limits))
        }
        let object = try CatalogObject(value, what, allowed: ["field", "op", "value"])
        let field = try resolver.field(try object.string("field"))
        let constant = try scalar(try object.required("value"), for: field, what + ".value")
        if case .number = constant {} else if op != .equal && op != .notEqual {
            throw CatalogIssue("\(what): \(op.rawValue) compares numbers; \(field.text) is \(field.kind.label)")
        }
        return .test(field, .compare(op, constant))
    }

    func numeric(_ text: String, _ what: String) throws(CatalogIssue) -> FieldPath {
        let field = try resolver.field(text)
        guard field.kind == .number else {
            throw CatalogIssue("\(what): \(field.text) is \(field.kind.label); this comparison needs a number field")
        }
        return field
    }

    /// A constant compared with `field`, checked against the field's kind and choices.
    func scalar(_ value: JSONValue, for field: FieldPath, _ what: String) throws(CatalogIssue) -> Scalar {
        switch (field.kind, value) {
        case (.number, _) where value.doubleValue != nil:
            return .number(value.doubleValue ?? 0)
        case (.bool, .bool(let flag)):
            return .bool(flag)
        case (.text(let choices), .string(let text)):
            if let choices, !choices.contains(text) {
                throw CatalogIssue(
                    "\(what): \"\(text)\" is not a value of \(field.text); use one of \(choices.joined(separator: ", "))")
            }
            return .string(text)
        default:
            throw CatalogIssue("\(what) must be \(field.kind.label) to compare with \(field.text), got \(describe(value))")
        }
    }
}
