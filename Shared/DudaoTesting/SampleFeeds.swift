import DudaoCore

/// One valid body of every feed type (SPEC section 3), in an order that satisfies references.
public enum SampleFeeds {
    public static let town: JSONValue = ["town_id": "dongcheng", "name": "东成镇", "kind": "town"]
    public static let otherTown: JSONValue = ["town_id": "encheng", "name": "恩城街道", "kind": "street"]
    public static let kindergarten: JSONValue = [
        "institution_id": "kg-dongcheng-01", "name": "东成镇中心幼儿园", "town_id": "dongcheng", "level": "kindergarten",
        "ownership": "public", "town_central": true,
    ]
    public static let otherKindergarten: JSONValue = [
        "institution_id": "kg-encheng-01", "name": "恩城街道中心幼儿园", "town_id": "encheng", "level": "kindergarten",
        "ownership": "public",
    ]
    public static let school: JSONValue = [
        "institution_id": "ps-dongcheng-01", "name": "东成镇中心小学", "town_id": "dongcheng", "level": "primary",
        "ownership": "public",
    ]

    /// An `ok` heartbeat of alarm `device` at the sample kindergarten.
    public static func heartbeat(device: String, at: String = "2026-11-29T08:00:00Z") -> JSONValue {
        ["device_id": .string(device), "institution_id": "kg-dongcheng-01", "device_kind": "alarm", "at": .string(at), "status": "ok"]
    }

    public static func census(children: Int64 = 25, asOf: String? = nil) -> JSONValue {
        var body: JSONObject = [
            "institution_id": "kg-dongcheng-01", "year": 2025,
            "classes": [
                ["class_id": "s1", "level": "small", "children": .int(children), "teachers": 2, "caregivers": 1],
                ["class_id": "m1", "level": "middle", "children": 30, "teachers": 2, "caregivers": 1],
            ],
            "full_time_teachers": 4, "caregivers": 2, "staff_total": 8, "certified_teachers": 4, "disabled_children_certified": 1,
        ]
        if let asOf { body["as_of"] = .string(asOf) }
        return .object(body)
    }

    /// `(type, body)` for every feed type.
    public static var all: [(String, JSONValue)] {
        [
            ("registry.town", town),
            ("registry.town", otherTown),
            ("registry.institution", kindergarten),
            ("registry.institution", otherKindergarten),
            ("registry.institution", school),
            ("population.cohort", ["town_id": "dongcheng", "year": 2025, "age_3": 400, "age_4": 410, "age_5": 420]),
            ("preschool.census", census()),
            (
                "compulsory.census",
                [
                    "institution_id": "ps-dongcheng-01", "year": 2025, "students": 600, "migrant_students": 80,
                    "classes": [["class_id": "1a", "grade": 1, "students": 45], ["class_id": "6b", "grade": 6, "students": 58]],
                ]
            ),
            ("compulsory.retention", ["year": 2025, "grade9_students": 4800, "cohort_entrants": 5000]),
            (
                "special.population",
                ["year": 2025, "disabled_school_age": 300, "enrolled": 295, "home_delivered": 20, "disabled_preschool_age_certified": 40]
            ),
            (
                "finance.year",
                [
                    "year": 2025, "preschool_fiscal_wan": 11200, "education_fiscal_wan": 160000.5, "public_kg_per_pupil_yuan": 550,
                    "inclusive_private_subsidy_yuan": 520,
                ]
            ),
            ("survey.recognition", ["year": 2025, "respondents": 1000, "satisfied": 900]),
            (
                "talent.year",
                [
                    "year": 2025, "county_famous_teachers": 62, "city_excellent_teachers": 11,
                    "studios": ["provincial": 1, "city": 6, "county": 21],
                ]
            ),
            (
                "project.progress",
                [
                    "project_id": "p-kg-01", "name": "东成镇中心幼儿园扩建", "kind": "kindergarten", "seats_planned": 360,
                    "seats_delivered": 360, "investment_planned_wan": 1200, "invested_wan": 1180.5, "due": "2024-08-31",
                    "status": "done",
                ]
            ),
            (
                "safety.inventory",
                [
                    "institution_id": "kg-dongcheng-01", "alarm_devices": ["alarm-1", "alarm-2"], "cctv_police_linked": true,
                    "cameras": 24, "cameras_linked": 24, "closed_management": true, "guards_required": 2, "guards_full_time": 2,
                ]
            ),
            (
                "safety.heartbeat",
                [
                    "device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "device_kind": "alarm",
                    "at": "2026-11-29T08:00:00+08:00", "status": "ok",
                ]
            ),
            ("safety.alarm", ["device_id": "alarm-1", "institution_id": "kg-dongcheng-01", "at": "2026-11-29T08:01:00+08:00", "note": "演练"]),
        ]
    }
}
