#!/usr/bin/env python3
"""Checks feed envelopes against the JSON Schemas next to this file, before they are sent.

    python3 validate.py FILE.jsonl ...     # one envelope per line; exit 1 if any line is invalid

Needs `pip install jsonschema rfc3339-validator` (draft 2020-12; rfc3339-validator makes
`format: date-time` count). Prints `FILE:LINE<TAB>invalid<TAB>PATH<TAB>MESSAGE` for each problem and
a summary. What the schemas cannot say (registered references, a count not above another,
unique class ids) is checked by dudao-ingest only; each schema's description lists it.

As a module: `validator()` returns a jsonschema validator of the envelope, `errors(frame)` the
problems of one envelope as (path, message) pairs, path written as on the wire
(`body.classes[0].children`).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def validator():
    try:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
    except ImportError:
        sys.exit("validate.py needs jsonschema: pip install jsonschema rfc3339-validator")
    resources = []
    names = ["envelope.schema.json"] + ["feeds/" + name for name in sorted(os.listdir(os.path.join(HERE, "feeds")))]
    for name in names:
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            schema = json.load(f)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    return Draft202012Validator(registry.contents(resources[0][0]), registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def wire_path(parts):
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "-"


def errors(frame, checker=None):
    checker = checker or validator()
    found = []
    for error in checker.iter_errors(frame):
        # An `if type … then body` branch reports its deepest causes.
        leaves = [e for e in error.context] if error.context else [error]
        for leaf in leaves:
            found.append((wire_path(leaf.absolute_path), leaf.message))
    return sorted(set(found))


def main(paths):
    checker = validator()
    valid = invalid = 0
    for path in paths:
        with open(path, encoding="utf-8-sig") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                try:
                    frame = json.loads(line)
                except ValueError as e:
                    print(f"{path}:{number}\tinvalid\t-\tnot JSON: {e}")
                    invalid += 1
                    continue
                problems = errors(frame, checker)
                for where, message in problems:
                    print(f"{path}:{number}\tinvalid\t{where}\t{message}")
                invalid += 1 if problems else 0
                valid += 0 if problems else 1
    print(f"summary: {valid} valid, {invalid} invalid")
    return 1 if invalid else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
