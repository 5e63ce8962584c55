#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets and their dictionary (see deploy/fuzz.sh).

    Tests/Fuzz/make-corpus.py [OUT]        # default OUT: .build-fuzz/corpus

OUT/envelope/  frame payloads: envelopes from deploy/sample/data, replies, and every bad envelope
               and bad JSON text the tests know
OUT/feeds/     byte 0 = index of the type in FeedType.allCases, then a body: valid bodies of every
               type (sample data and the tests' samples) and every rejected body of the tests
OUT/frames/    byte 0 = frame limit (low 3 bits) and read sizes (high 5 bits), then a byte stream:
               framed envelopes, one or several per stream, and the tests' bad streams
OUT/dudao.dict libFuzzer dictionary: JSON tokens, envelope and feed member names, types, values

Seeds are named by the SHA-1 of their content, so re-running the script is harmless. Only the
standard library is used.
"""

import hashlib
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build-fuzz", "corpus"))
MAX_FRAMES = 4096  # the frames target's -max_len
MAX_PAYLOAD = 4096  # the envelope target's -max_len
MAX_BODY = 2048  # the feeds target's -max_len

# FeedType.allCases, in declaration order (byte 0 of a feeds input indexes it).
with open(os.path.join(ROOT, "Shared/DudaoFeeds/FeedType.swift"), encoding="utf-8") as f:
    FEED_TYPES = re.findall(r'^\s*case \w+ = "([a-z._]+)"', f.read(), re.M)
assert len(FEED_TYPES) >= 14, FEED_TYPES


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fit(body, limit):
    """The body, with its longest arrays cut until its compact JSON fits in `limit` bytes."""
    body = dict(body)
    while len(compact(body)) > limit:
        arrays = [k for k, v in body.items() if isinstance(v, list) and v]
        if not arrays:
            return None
        longest = max(arrays, key=lambda k: len(body[k]))
        body[longest] = body[longest][: len(body[longest]) // 2]
    return body


class Corpus:
    def __init__(self, name):
        self.dir = os.path.join(OUT, name)
        os.makedirs(self.dir, exist_ok=True)
        self.count = 0

    def add(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = os.path.join(self.dir, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count += 1


# --- What the repository knows ------------------------------------------------------------------

def sample_envelopes():
    """Envelopes of deploy/sample/data: per file, the first lines and a spread of the others."""
    data = os.path.join(ROOT, "deploy", "sample", "data")
    result = []
    for name in sorted(os.listdir(data)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(data, name), encoding="utf-8") as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
        picked = lines[:4] + lines[4::max(1, len(lines) // 8)]
        for line in picked:
            envelope = json.loads(line)
            body = fit(envelope.get("body", {}), MAX_BODY)
            if body is None:
                continue
            envelope["body"] = body
            result.append(envelope)
    return result


# The tests' valid bodies (Tests/DudaoTests/FeedValidationTests.swift, Shared/DudaoTesting/SampleFeeds.swift).
TEST_BODIES = {
    "registry.town": {"town_id": "dongcheng", "name": "东成镇", "kind": "town"},
    "registry.institution": {"institution_id": "kg-1", "name": "东成镇中心幼儿园", "town_id": "dongcheng",
                             "level": "kindergarten", "ownership": "public", "town_central": True,
                             "as_of": "2025-09-01T08:00:00+08:00"},
    "population.cohort": {"town_id": "dongcheng", "year": 2025, "age_3": 410, "age_4": 395, "age_5": 402},
    "preschool.census": {"institution_id": "kg-1", "year": 2025, "classes": [
        {"class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1},
        {"class_id": "m1", "level": "middle", "children": 30, "teachers": 2, "caregivers": 1},
        {"class_id": "l1", "level": "large", "children": 200, "teachers": 2, "caregivers": 1}],
        "full_time_teachers": 6, "caregivers": 3, "staff_total": 12, "certified_teachers": 6,
        "disabled_children_certified": 1, "as_of": "2025-09-30T10:00:00+08:00"},
    "compulsory.census": {"institution_id": "pri-1", "year": 2025, "students": 900, "migrant_students": 120,
                          "classes": [{"class_id": "1-1", "grade": 1, "students": 45},
                                      {"class_id": "9-1", "grade": 9, "students": 56}]},
    "compulsory.retention": {"year": 2025, "grade9_students": 4800, "cohort_entrants": 4950},
    "special.population": {"year": 2025, "disabled_school_age": 100, "enrolled": 90, "home_delivered": 95,
                           "disabled_preschool_age_certified": 20},
    "finance.year": {"year": 2025, "preschool_fiscal_wan": 12000.5, "education_fiscal_wan": 200000,
                     "public_kg_per_pupil_yuan": 600, "inclusive_private_subsidy_yuan": 500.25},
    "survey.recognition": {"year": 2025, "respondents": 1000, "satisfied": 1000},
    "talent.year": {"year": 2025, "county_famous_teachers": 61, "city_excellent_teachers": 10,
                    "studios": {"provincial": 1, "city": 6, "county": 20}},
    "project.progress": {"project_id": "p-kg-07", "name": "恩城第七幼儿园", "kind": "kindergarten",
                         "seats_planned": 360, "seats_delivered": 400, "investment_planned_wan": 1800,
                         "invested_wan": 2100.5, "due": "2024-08-31", "status": "done"},
    "safety.inventory": {"institution_id": "kg-1", "alarm_devices": ["dev-1", "dev-2"], "cctv_police_linked": True,
                         "cameras": 40, "cameras_linked": 40, "closed_management": True, "guards_required": 2,
                         "guards_full_time": 2},
    "safety.heartbeat": {"device_id": "dev-1", "institution_id": "kg-1", "device_kind": "alarm",
                         "at": "2025-09-30T10:00:00+08:00", "status": "ok"},
    "safety.alarm": {"device_id": "dev-1", "institution_id": "kg-1", "at": "2025-09-30T02:00:05.123Z",
                     "note": "门口有可疑人员"},
}

DELETE = object()
# Tests/DudaoTests/FeedRejectionTests.swift (and FeedValidationTests): (type, {member: value or DELETE}).
REJECTED = [
    ("registry.town", {"kind": "village"}), ("registry.town", {"town_id": DELETE}),
    ("registry.town", {"town_id": "dong cheng"}), ("registry.town", {"town_id": "a" * 65}),
    ("registry.town", {"town_id": ""}), ("registry.town", {"name": ""}), ("registry.town", {"name": "   "}),
    ("registry.town", {"name": "名" * 201}), ("registry.town", {"as_of": "2025-09-30"}),
    ("registry.town", {"name": DELETE}),
    ("registry.institution", {"level": "college"}), ("registry.institution", {"ownership": "state"}),
    ("registry.institution", {"level": "primary"}), ("registry.institution", {"town_central": "yes"}),
    ("registry.institution", {"town_id": 7}),
    ("registry.institution", {"level": "primary", "town_central": False}),
    ("registry.institution", {"as_of": DELETE, "town_central": DELETE}),
    ("population.cohort", {"year": 2101}), ("population.cohort", {"year": 1999}), ("population.cohort", {"age_3": -1}),
    ("population.cohort", {"age_4": 3.5}), ("population.cohort", {"age_5": 3.0}), ("population.cohort", {"age_6": 3}),
    ("population.cohort", {"age_3": "410"}), ("population.cohort", {"as_of": None}),
    ("preschool.census", {"colour": "red"}), ("preschool.census", {"staff_total": DELETE}),
    ("preschool.census", {"classes": "none"}), ("preschool.census", {"classes": [1]}),
    ("preschool.census", {"classes": []}),
    ("preschool.census", {"certified_teachers": 7}), ("preschool.census", {"as_of": "yesterday"}),
    ("preschool.census", {"classes": [
        {"class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1},
        {"class_id": "s2", "level": "small", "children": 201, "teachers": 2, "caregivers": 1}]}),
    ("preschool.census", {"classes": [
        {"class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1},
        {"class_id": "s2", "level": "huge", "children": 20, "teachers": 2, "caregivers": 1}]}),
    ("preschool.census", {"classes": [
        {"class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1, "colour": "red"}]}),
    ("preschool.census", {"classes": [
        {"class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1},
        {"class_id": "s2", "level": "small", "children": 20, "teachers": 2, "caregivers": 1},
        {"class_id": "s1", "level": "large", "children": 20, "teachers": 2, "caregivers": 1}]}),
    ("preschool.census", {"classes": [{"class_id": "s1", "level": "small", "children": 25, "teachers": 2}]}),
    ("preschool.census", {"classes": [
        {"class_id": "a", "level": "mixed", "children": 201, "teachers": 2, "caregivers": 1}]}),
    ("compulsory.census", {"migrant_students": 901}), ("compulsory.census", {"migrant_students": 900}),
    ("compulsory.census", {"classes": [{"class_id": "x", "grade": 10, "students": 30}]}),
    ("compulsory.census", {"classes": [{"class_id": "x", "grade": 0, "students": 30}]}),
    ("compulsory.census", {"classes": [{"class_id": "x", "grade": 3, "students": 201}]}),
    ("compulsory.census", {"classes": [{"class_id": "a", "grade": 1, "students": 200}]}),
    ("compulsory.census", {"classes": [{"class_id": "x", "grade": 3, "students": 40},
                                       {"class_id": "x", "grade": 4, "students": 40}]}),
    ("compulsory.census", {"classes": [{"class_id": "x y", "grade": 3, "students": 40}]}),
    ("compulsory.census", {"classes": []}),
    ("compulsory.retention", {"grade9_students": DELETE}), ("compulsory.retention", {"cohort_entrants": -5}),
    ("compulsory.retention", {"year": "2025"}),
    ("special.population", {"enrolled": 101}), ("special.population", {"home_delivered": 101}),
    ("special.population", {"disabled_preschool_age_certified": DELETE}),
    ("special.population", {"enrolled": 100, "home_delivered": 100}),
    ("special.population", {"enrolled": 10, "home_delivered": 60}),
    ("finance.year", {"preschool_fiscal_wan": -0.5}), ("finance.year", {"education_fiscal_wan": "200000"}),
    ("finance.year", {"inclusive_private_subsidy_yuan": DELETE}),
    ("finance.year", {"preschool_fiscal_wan": 0, "education_fiscal_wan": 1.5}),
    ("survey.recognition", {"satisfied": 1001}), ("survey.recognition", {"respondents": None}),
    ("survey.recognition", {"respondents": 1000.0}),
    ("talent.year", {"studios": {"provincial": 1, "city": 6}}),
    ("talent.year", {"studios": {"provincial": 1, "city": 6, "county": 20, "national": 0}}),
    ("talent.year", {"studios": [1, 6, 20]}), ("talent.year", {"county_famous_teachers": 60.5}),
    ("project.progress", {"due": "2025-02-30"}), ("project.progress", {"due": "2025-09-30T00:00:00Z"}),
    ("project.progress", {"status": "finished"}), ("project.progress", {"kind": "senior_high"}),
    ("project.progress", {"invested_wan": -1}),
    ("project.progress", {"seats_delivered": 0, "invested_wan": 99999.99}),
    ("safety.inventory", {"cameras_linked": 41}), ("safety.inventory", {"alarm_devices": ["dev-1", "dev-2", "dev-1"]}),
    ("safety.inventory", {"alarm_devices": ["dev 1"]}), ("safety.inventory", {"alarm_devices": "dev-1"}),
    ("safety.inventory", {"alarm_devices": []}),
    ("safety.inventory", {"cctv_police_linked": "yes"}), ("safety.inventory", {"guards_full_time": DELETE}),
    ("safety.heartbeat", {"at": DELETE}), ("safety.heartbeat", {"as_of": "2025-09-30T10:00:00+08:00"}),
    ("safety.heartbeat", {"status": "down"}), ("safety.heartbeat", {"device_kind": "camera"}),
    ("safety.heartbeat", {"at": "2025-09-30T25:00:00Z"}),
    ("safety.alarm", {"note": "x" * 501}), ("safety.alarm", {"note": 5}), ("safety.alarm", {"note": DELETE}),
    ("safety.alarm", {"at": "2025-09-30 10:00"}), ("safety.alarm", {"device_id": "d" * 65}),
    ("safety.alarm", {"as_of": "2025-09-30T10:00:00+08:00"}),
    ("safety.alarm", {"at": "2025-09-30T10:00:00+08:00"}), ("safety.alarm", {"at": "2025-09-30T02:00:00.000Z"}),
]

# Whole bodies as text (FeedRejectionTests, FeedValidationTests).
RAW_BODIES = [("talent.year", '{"year":2025.0}'), ("safety.heartbeat", "{}"), ("preschool.census", "{}")]

# JSONParserTests: valid and malformed texts.
JSON_TEXTS = [
    '{"a":1,"b":-2.5,"c":"x\\"y\\u00e9\\ud83d\\ude00","d":[true,false,null],"e":{}}',
    "3", "3.0", "1e2", "-0", "", "{", '{"a":}', "[1,]", '{"a":1,}', "01", "1.", "tru", '"\\x"', '{"a":1}x',
    '{"a":1,"a":2}', '"\x01"', '"\\ud800"', "NaN", "1e999",
    "[" * 64 + "]" * 64, "[" * 65 + "]" * 65,
    '{"v":1,"kind":"ack","id":"a-1","s":"中文\\n\\"q\\"","d":2.5,"n":null,"l":[1,2]}',
    "-9223372036854775808", "9223372036854775808", "1E+2", "0.000001", "123456789012345678901234567890",
    '"\\u0000\\b\\f\\n\\r\\t\\/\\\\"', '"\\uDBFF\\uDFFF"', " \t\r\n[ ] ",
]
JSON_BYTES = [b'"\xff"', b'"\xc3\x28"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"']

# EnvelopeTests and IngestProtocolTests: envelopes as text.
ENVELOPE_TEXTS = [
    '{"v":1,"kind":"feed","id":"a.b:c-1_2","type":"registry.town","sent_at":"2025-09-30T10:00:00+08:00","body":{}}',
    "{not json", "{oops",
    '{"v":2,"kind":"feed","id":"x","type":"t","body":{}}',
    '{"v":3,"kind":"feed","id":"e1","type":"registry.town","body":{}}',
    '{"kind":"feed","id":"x","type":"t","body":{}}', '{"v":"1","kind":"feed","id":"x","type":"t","body":{}}',
    '{"v":1.0,"kind":"feed","id":"x","type":"t","body":{}}',
    '{"v":1,"kind":"feed","id":"","type":"t","body":{}}', '{"v":1,"kind":"feed","id":"has space","type":"t","body":{}}',
    '{"v":1,"kind":"feed","id":"' + "a" * 129 + '","type":"t","body":{}}',
    '{"v":1,"kind":"feed","id":"' + "a" * 128 + '","type":"t","body":{}}',
    '{"v":1,"kind":"feed","id":7,"type":"t","body":{}}', '{"v":1,"kind":"feed","id":null,"type":"t","body":{}}',
    '{"v":1,"kind":"feed","id":"x","type":"t","body":[]}', '{"v":1,"kind":"feed","id":"x","body":{}}',
    '{"v":1,"kind":"feed","id":"x","type":"t"}', '{"v":1,"kind":"feed","id":"x","type":"t","body":{},"extra":1}',
    '{"v":1,"kind":"feed","id":"x","type":"t","body":{},"sent_at":"yesterday"}',
    '{"v":1,"kind":"feed","id":"x","type":"t","body":{},"sent_at":null}',
    '{"v":1,"kind":"","id":"x"}', '{"v":1,"kind":"feed","id":"x","type":"","body":{}}', "[1]",
    '{"v":1,"kind":"feed","type":"registry.town","body":{}}',
    '{"v":1,"kind":"feed","id":"e2","type":"weather.report","body":{}}',
    '{"v":1,"kind":"feed","id":"e3","type":"population.cohort","body":{"town_id":"dongcheng","year":2025,"age_3":"many","age_4":1,"age_5":1}}',
    '{"v":1,"kind":"feed","id":"e4","type":"population.cohort","body":{"town_id":"atlantis","year":2025,"age_3":1,"age_4":1,"age_5":1}}',
    '{"v":1,"kind":"feed","id":"e5","type":"registry.town","body":{"town_id":"x","name":"X","kind":"town","colour":"red"}}',
    '{"v":1,"kind":"feed","id":"e6","type":"survey.recognition","body":{"year":2025,"respondents":10,"satisfied":11}}',
    '{"v":1,"kind":"feed","id":"e7","type":"preschool.census","body":{"institution_id":"ps-dongcheng-01","year":2025,"classes":[],"full_time_teachers":1,"caregivers":1,"staff_total":2,"certified_teachers":1,"disabled_children_certified":0}}',
    '{"v":1,"kind":"query","id":"e8","type":"no.such.query","body":{}}',
    '{"v":1,"kind":"query","id":"s","type":"ingest.status","body":{}}',
    '{"v":1,"kind":"subscribe","id":"s1","body":{"from":1,"credit":1000,"types":["preschool.*"]}}',
    '{"v":1,"kind":"credit","id":"c1","body":{"credit":500,"committed":1234}}',
    '{"v":1,"kind":"ack","id":"a-1","status":"accepted"}',
    '{"v":1,"kind":"nack","id":null,"error":{"code":"malformed_json","message":"the frame is not valid JSON"}}',
    '{"v":1,"kind":"error","error":{"code":"frame_too_large","message":"too large"}}',
    '{"v":1,"kind":"result","id":"q","body":{"from":1,"head":2}}',
    '{"v":1,"kind":"event","id":"ev-1","type":"safety.alarm","body":{"alert_key":"device:alarm-1","status":"firing"}}',
]

TIMESTAMPS = ["2025-09-30T10:00:00+08:00", "2025-09-30T02:00:05.123Z", "1970-01-01T00:00:00Z",
              "2024-02-29T00:00:00Z", "2025-09-30t10:00:00z", "2025-09-30 10:00:00-05:30",
              "2016-12-31T23:59:60Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"]


def feed_bodies():
    """(type, body bytes): valid bodies, variations of them, rejected ones."""
    result = []
    for envelope in sample_envelopes():
        if envelope.get("kind") == "feed":
            result.append((envelope["type"], compact(envelope["body"])))
    for type_, body in TEST_BODIES.items():
        result.append((type_, compact(body)))
        for stamp in TIMESTAMPS:
            field = "at" if type_ in ("safety.heartbeat", "safety.alarm") else "as_of"
            result.append((type_, compact(dict(body, **{field: stamp}))))
    for type_, changes in REJECTED:
        body = dict(TEST_BODIES[type_])
        for key, value in changes.items():
            if value is DELETE:
                body.pop(key, None)
            else:
                body[key] = value
        result.append((type_, compact(body)))
    for type_, text in RAW_BODIES:
        result.append((type_, text.encode("utf-8")))
    return result


def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return struct.pack(">I", len(payload)) + payload


def main():
    envelopes = Corpus("envelope")
    feeds = Corpus("feeds")
    frames = Corpus("frames")

    samples = sample_envelopes()
    payloads = [compact(e) for e in samples if len(compact(e)) <= MAX_PAYLOAD]
    payloads += [t.encode("utf-8") for t in ENVELOPE_TEXTS + JSON_TEXTS] + JSON_BYTES
    for type_, body in feed_bodies():
        envelope = b'{"v":1,"kind":"feed","id":"f-1","type":"' + type_.encode() + b'","body":' + body + b"}"
        if len(envelope) <= MAX_PAYLOAD:
            payloads.append(envelope)
    for payload in payloads:
        envelopes.add(payload)

    for type_, body in feed_bodies():
        if len(body) + 1 <= MAX_BODY:
            feeds.add(bytes([FEED_TYPES.index(type_)]) + body)
    # The two choices past the last type: the body's first member name is the type (unknown types).
    feeds.add(bytes([len(FEED_TYPES)]) + b'{"preschool.censuses":1}')
    feeds.add(bytes([len(FEED_TYPES) + 1]) + b'{"' + "名".encode() * 70 + b'":{}}')

    # Frames: byte 0 = limit index (0:1 1:4 2:16 3:100 4:1024 5:64Ki 6:1Mi 7:none) | read size << 3.
    small = [p for p in payloads if len(p) <= 600]
    one_read, byte_reads, mixed_reads = 6, 6 | (1 << 3), 6 | (13 << 3)
    for index, payload in enumerate(small):
        options = [one_read, byte_reads, mixed_reads][index % 3]
        frames.add(bytes([options]) + frame(payload))
    for start in range(0, len(small), 4):  # several frames per stream, pipelined as clients do
        stream = b"".join(frame(p) for p in small[start:start + 4])
        if len(stream) < MAX_FRAMES:
            frames.add(bytes([(4 + start) % 32 << 3 | 6]) + stream)
    town = compact({"v": 1, "kind": "feed", "id": "z1", "type": "registry.town", "body": TEST_BODIES["registry.town"]})
    bad_streams = [
        (6, struct.pack(">I", 0)),  # zero length
        (6, frame(town) + struct.pack(">I", 0)),  # a valid frame, then a zero length
        (2, struct.pack(">I", 0xFFFFFFF0)),  # far over the limit, refused from the header alone
        (6, struct.pack(">I", 1_000_000_000)),
        (2, struct.pack(">I", 0xFFFFFFF0) + frame("{}")),  # what follows a refusal is discarded
        (1, frame("1234") + frame("12345")),  # exactly the limit, then one over
        (2, frame('{"a":1}') + frame("[2]")),  # split byte by byte below
        (2 | 1 << 3, frame('{"a":1}') + frame("[2]")),
        (6, frame(town)[:-3]),  # truncated at EOF
        (6, frame(town)[:3]),  # truncated header
        (7, struct.pack(">I", 0x7FFFFFFF) + b"{}"),  # no limit: waits for the body
        (0, frame("1") + frame("12")),
        (6 | 2 << 3, frame(town) * 3),
    ]
    for options, stream in bad_streams:
        frames.add(bytes([options]) + stream)

    # The dictionary: tokens that mutations would rarely build byte by byte.
    tokens = {"{", "}", "[", "]", ":", ",", '"', "true", "false", "null", "-0", "0.5", "1e2", "-1", "2025",
              "2100", "2101", "1999", "200", "201", "\\u", "\\ud83d\\ude00", "\\u0000", "\\\\", '\\"', "é",
              "名", "e+", "E-", "9223372036854775807", "9223372036854775808", "1e999"}
    tokens |= set(TIMESTAMPS) | {"+08:00", "-23:59", "Z", ".123", "T23:59:60", "0000-01-01", "9999-12-31"}
    tokens |= {"v", "kind", "id", "type", "sent_at", "body", "status", "error", "code", "message", "path",
               "feed", "query", "subscribe", "credit", "ack", "nack", "result", "event"}
    tokens |= set(FEED_TYPES)
    for source in ("Shared/DudaoFeeds", "Shared/DudaoWire"):
        for name in os.listdir(os.path.join(ROOT, source)):
            with open(os.path.join(ROOT, source, name), encoding="utf-8") as f:
                tokens |= set(re.findall(r'"([a-z][a-z0-9_.]{1,40})"', f.read()))

    def quoted(token):
        data = token.encode("utf-8")
        return '"' + "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else "\\x%02X" % b
                             for b in data) + '"'

    lines = [quoted(t) for t in sorted(tokens)]
    lines += ['"\\x00\\x00\\x00\\x00"', '"\\xFF\\xFF\\xFF\\xF0"', '"\\x00\\x00\\x10\\x00"']
    with open(os.path.join(OUT, "dudao.dict"), "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")

    for corpus in (envelopes, feeds, frames):
        print("%-10s %4d new seeds in %s" % (os.path.basename(corpus.dir), corpus.count, corpus.dir))


if __name__ == "__main__":
    main()
