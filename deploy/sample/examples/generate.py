#!/usr/bin/env python3
"""Writes one example of every feed type (SPEC section 3) as JSON Lines and as CSV.

    python3 deploy/sample/examples/generate.py      # rewrites the files next to this script

Each `<type>.jsonl` holds full envelopes with stable ids (a re-send is `duplicate`); each
`<type>.csv` holds the same bodies, one row each, a header of body field names (send it with
`dudao send --type <type>`). Arrays and objects sit in one cell as JSON. `every-type.xlsx` is
not written here: it is `dudao template --out deploy/sample/examples/every-type.xlsx` (WorkbookTests
checks that it still is). The order of TYPES
satisfies the references (towns, then institutions, then the rest).
"""
import csv
import io
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

TYPES = [
    ("registry.town", [
        {"town_id": "dongcheng", "name": "东成镇", "kind": "town"},
        {"town_id": "encheng", "name": "恩城街道", "kind": "street"},
    ]),
    ("registry.institution", [
        {"institution_id": "kg-dongcheng-01", "name": "东成镇中心幼儿园", "town_id": "dongcheng", "level": "kindergarten",
         "ownership": "public", "town_central": True},
        {"institution_id": "kg-encheng-02", "name": "恩城街道示例幼儿园", "town_id": "encheng", "level": "kindergarten",
         "ownership": "inclusive_private"},
        {"institution_id": "ps-dongcheng-01", "name": "东成镇中心小学", "town_id": "dongcheng", "level": "primary",
         "ownership": "public"},
    ]),
    ("population.cohort", [
        {"town_id": "dongcheng", "year": 2025, "age_3": 400, "age_4": 410, "age_5": 420},
        {"town_id": "encheng", "year": 2025, "age_3": 1500, "age_4": 1480, "age_5": 1460},
    ]),
    ("preschool.census", [
        {"institution_id": "kg-dongcheng-01", "year": 2025,
         "classes": [{"class_id": "s1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1},
                     {"class_id": "m1", "level": "middle", "children": 30, "teachers": 2, "caregivers": 1}],
         "full_time_teachers": 4, "caregivers": 2, "staff_total": 8, "certified_teachers": 4,
         "disabled_children_certified": 1, "principals": 1, "certified_principals": 1, "outdoor_area_m2": 1200, "activity_room_area_m2": 560,
         "building_area_m2": 2600},
    ]),
    ("compulsory.census", [
        {"institution_id": "ps-dongcheng-01", "year": 2025, "students": 600, "migrant_students": 80,
         "classes": [{"class_id": "1a", "grade": 1, "students": 45}, {"class_id": "6b", "grade": 6, "students": 58}]},
    ]),
    ("compulsory.retention", [{"year": 2025, "grade9_students": 4800, "cohort_entrants": 5000}]),
    ("special.population", [
        {"year": 2025, "disabled_school_age": 300, "enrolled": 295, "home_delivered": 20, "disabled_preschool_age_certified": 40},
    ]),
    ("finance.year", [
        {"year": 2025, "preschool_fiscal_wan": 11200, "education_fiscal_wan": 160000.5, "public_kg_per_pupil_yuan": 550,
         "inclusive_private_subsidy_yuan": 520},
    ]),
    ("survey.recognition", [{"year": 2025, "respondents": 1000, "satisfied": 900}]),
    ("talent.year", [
        {"year": 2025, "county_famous_teachers": 62, "city_excellent_teachers": 11,
         "studios": {"provincial": 1, "city": 6, "county": 21}},
    ]),
    ("project.progress", [
        {"project_id": "p-kg-01", "name": "东成镇中心幼儿园扩建", "kind": "kindergarten", "seats_planned": 360,
         "seats_delivered": 360, "investment_planned_wan": 1200, "invested_wan": 1180.5, "due": "2024-08-31",
         "status": "done"},
    ]),
    ("safety.inventory", [
        {"institution_id": "kg-dongcheng-01", "alarm_devices": ["alarm-dc01-1", "alarm-dc01-2"], "cctv_police_linked": True,
         "cameras": 24, "cameras_linked": 24, "closed_management": True, "guards_required": 2, "guards_full_time": 2},
    ]),
    ("safety.heartbeat", [
        {"device_id": "alarm-dc01-1", "institution_id": "kg-dongcheng-01", "device_kind": "alarm",
         "at": "2026-11-29T08:00:00+08:00", "status": "ok"},
        {"device_id": "alarm-dc01-2", "institution_id": "kg-dongcheng-01", "device_kind": "alarm",
         "at": "2026-11-29T08:00:00+08:00", "status": "fault"},
    ]),
    ("safety.alarm", [
        {"device_id": "alarm-dc01-1", "institution_id": "kg-dongcheng-01", "at": "2026-11-29T08:01:00+08:00",
         "note": "演练：一键报警测试"},
    ]),
]


def cell(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def main():
    for index, (feed_type, bodies) in enumerate(TYPES, start=1):
        stem = f"{index:02d}-{feed_type}"
        with open(os.path.join(HERE, stem + ".jsonl"), "w", encoding="utf-8") as out:
            for n, body in enumerate(bodies, start=1):
                envelope = {"v": 1, "kind": "feed", "id": f"example-{feed_type}-{n}", "type": feed_type, "body": body}
                out.write(json.dumps(envelope, ensure_ascii=False, separators=(",", ":")) + "\n")
        fields = []
        for body in bodies:
            fields += [name for name in body if name not in fields]
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(fields)
        for body in bodies:
            writer.writerow([cell(body[name]) if name in body else "" for name in fields])
        with open(os.path.join(HERE, stem + ".csv"), "w", encoding="utf-8") as out:
            out.write(text.getvalue())


if __name__ == "__main__":
    main()
