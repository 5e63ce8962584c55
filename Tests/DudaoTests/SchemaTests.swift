import DudaoCore
import DudaoFeeds
import DudaoTesting
import Foundation
import Testing

/// The JSON Schemas of deploy/docs/schemas: generated from the validator's declarations, and
/// checked by an independent draft 2020-12 validator (python-jsonschema from PyPI) to agree
/// with dudao-ingest's validator on the samples and on hundreds of broken variants of them.
@Suite struct SchemaTests {
    static let folder = EvaluationFixture.repoRoot + "/deploy/docs/schemas"

    @Test func theShippedSchemasAreWhatTheValidatorsDeclarationsGive() throws {
        let expected = [("envelope.schema.json", FeedSchemas.envelope())]
            + FeedType.allCases.map { (FeedSchemas.fileName($0), FeedSchemas.feed($0)) }
        for (name, schema) in expected {
            let shipped = try String(contentsOfFile: Self.folder + "/" + name, encoding: .utf8)
            #expect(shipped == JSONWriter.pretty(schema), "\(name) differs; run `dudao schema --out deploy/docs/schemas`")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder + "/feeds")
        #expect(files.count == FeedType.allCases.count, "\(files)")
    }

    /// Every sample body, and variants with a field dropped, added, of the wrong type, out of
    /// range or too long: the schema accepts exactly what the validator accepts, except what
    /// the schema's description names as checked beyond it.
    @Test func theSchemasAgreeWithTheValidator() throws {
        let python = try PyPI.python(repoRoot: EvaluationFixture.repoRoot)
        var cases: [JSONValue] = []
        func add(_ type: FeedType, _ body: JSONObject, _ what: String) {
            let ok: Bool
            switch FeedValidator.validate(type, body: body) {
            case .success: ok = true
            case .failure(let error):
                // Cross-field rules the schema does not state (its description names them).
                if error.message.contains("must not exceed") || error.message.contains("repeats") { return }
                ok = false
            }
            cases.append(["type": .string(type.rawValue), "what": .string(what), "ok": .bool(ok), "body": .object(body)])
        }
        let examples = EvaluationFixture.repoRoot + "/deploy/sample/examples"
        for file in try FileManager.default.contentsOfDirectory(atPath: examples).filter({ $0.hasSuffix(".jsonl") }).sorted() {
            for line in try String(contentsOfFile: examples + "/" + file, encoding: .utf8).split(separator: "\n") {
                let envelope = try JSONParser.parse(String(line))
                guard let type = envelope["type"]?.stringValue.flatMap(FeedType.init), let body = envelope["body"]?.objectValue else { continue }
                add(type, body, "sample")
                for variant in Self.variants(body) { add(type, variant.body, variant.what) }
            }
        }
        let root = try TestDirectory("schemas")
        try root.write("cases.jsonl", cases.map(JSONWriter.string).joined(separator: "\n") + "\n")
        try root.write("check.py", Self.checkScript)
        let run = try runProgram(python, [root.file("check.py"), Self.folder, root.file("cases.jsonl")])
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("disagree 0"), "\(run.output)")
        let accepted = cases.filter { $0["ok"] == true }.count
        #expect(cases.count > 500 && accepted > 20 && accepted < cases.count, "\(cases.count) cases, \(accepted) accepted")
    }

    /// Broken copies of `body`: each field (and each field of the first nested object) dropped,
    /// replaced by a string, a negative or huge number, a boolean, null, a long string; one
    /// unknown field added.
    static func variants(_ body: JSONObject) -> [(what: String, body: JSONObject)] {
        let replacements: [(String, JSONValue)] = [
            ("a string", "x"), ("-1", -1), ("3000", 3000), ("10^12", .int(1_000_000_000_000)), ("true", true), ("null", .null),
            ("1.5", .double(1.5)), ("65 characters", .string(String(repeating: "a", count: 65))),
            ("501 characters", .string(String(repeating: "字", count: 501))), ("an empty string", ""), ("a blank string", "  "),
            ("an id with a space", "a b"), ("an array", ["x"]), ("an object", ["x": 1]), ("2024-02-30", "2024-02-30"),
            ("a local time", "2026-11-29 08:00"),
        ]
        var result: [(String, JSONObject)] = []
        var added = body
        added["colour"] = "red"
        result.append(("body.colour added", added))
        for stamp: JSONValue in ["2025-09-30T00:00:00+08:00", "2025-09-30T00:00:00.250Z", "2025-09-30", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2025-09-30T24:00:00Z", "2025-09-30t08:00:00+08:00", .null, 5] {
            var dated = body
            dated["as_of"] = stamp
            result.append(("as_of = \(JSONWriter.string(stamp))", dated))
        }
        for (name, value) in body.members {
            var dropped = body
            dropped[name] = nil
            result.append(("\(name) dropped", dropped))
            for (label, replacement) in replacements {
                var changed = body
                changed[name] = replacement
                result.append(("\(name) = \(label)", changed))
            }
            var nested: JSONObject?
            var inArray = false
            if case .object(let object) = value { nested = object }
            if case .array(let items) = value, case .object(let first)? = items.first {
                nested = first
                inArray = true
            }
            guard let nested else { continue }
            for inner in nested.members.map(\.key) {
                for (label, replacement) in replacements + [("dropped", .null)] {
                    var element = nested
                    element[inner] = label == "dropped" ? nil : replacement
                    var changed = body
                    if inArray, case .array(var items) = value {
                        items[0] = .object(element)
                        changed[name] = .array(items)
                    } else {
                        changed[name] = .object(element)
                    }
                    result.append(("\(name).\(inner) \(label)", changed))
                }
            }
        }
        return result
    }

    static let checkScript = #"""
        import json, os, sys
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        folder, cases_path = sys.argv[1], sys.argv[2]
        resources = []
        for name in ["envelope.schema.json"] + ["feeds/" + f for f in sorted(os.listdir(folder + "/feeds"))]:
            with open(folder + "/" + name, encoding="utf-8") as f:
                schema = json.load(f)
            Draft202012Validator.check_schema(schema)
            resources.append((schema["$id"], Resource.from_contents(schema)))
        registry = Registry().with_resources(resources)
        envelope = dict(registry.contents(resources[0][0]))
        validator = Draft202012Validator(envelope, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        disagree = []
        total = 0
        with open(cases_path, encoding="utf-8") as f:
            for n, line in enumerate(f):
                case = json.loads(line)
                total += 1
                frame = {"v": 1, "kind": "feed", "id": "case-%d" % n, "type": case["type"], "body": case["body"]}
                errors = [e.message for e in validator.iter_errors(frame)]
                if (not errors) != case["ok"]:
                    disagree.append({"type": case["type"], "what": case["what"], "validator_ok": case["ok"], "schema": errors[:2]})
        for d in disagree[:40]:
            print(json.dumps(d, ensure_ascii=False))
        print("cases %d, disagree %d" % (total, len(disagree)))
        """#
}
