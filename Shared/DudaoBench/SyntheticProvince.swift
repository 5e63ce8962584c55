import DudaoCore
import DudaoEvaluation
import DudaoFeeds

/// The synthetic records of ``EvaluationBenchmark``: valid feed bodies (SPEC section 3) with
/// their keys, in an order that registers towns and institutions first.
struct SyntheticProvince {
    struct Record {
        var type: FeedType
        var key: String
        var body: JSONObject

        /// The body decoded as a consumer of the ingest log decodes it (nil if it does not
        /// validate, which the benchmark's generator never makes).
        var decoded: ValidatedFeed? { try? FeedValidator.validate(type, body: body).get() }
    }

    private(set) var records: [Record] = []
    private(set) var townIDs: [String] = []
    private(set) var kindergartens: [String] = []
    let institutionCount: Int
    let classesPerInstitution: Int
    var kindergartenCount: Int { kindergartens.count }
    var classCount: Int { institutionCount * classesPerInstitution }

    static let levels = ["small", "middle", "large", "mixed"]

    init(institutions: Int, classes: Int) {
        institutionCount = institutions
        classesPerInstitution = classes
        var random = SplitMix(seed: 2025)
        let towns = max(1, institutions / 500)
        for t in 0..<towns {
            let id = "town-\(t)"
            townIDs.append(id)
            records.append(Record(type: .registryTown, key: id, body: ["town_id": .string(id), "name": .string(id), "kind": "town"]))
        }
        for i in 0..<institutions {
            let id = "inst-\(i)"
            let town = townIDs[i % towns]
            let isKindergarten = i % 5 != 4
            let ownership: JSONValue = isKindergarten ? [.string("public"), "inclusive_private", "private"][random.below(3)] : "public"
            var registry: JSONObject = [
                "institution_id": .string(id), "name": .string(id), "town_id": .string(town),
                "level": isKindergarten ? "kindergarten" : "primary", "ownership": ownership,
            ]
            if isKindergarten, i < towns { registry["town_central"] = true; registry["ownership"] = "public" }
            records.append(Record(type: .registryInstitution, key: id, body: registry))
            if isKindergarten {
                kindergartens.append(id)
            }
        }
        for (t, town) in townIDs.enumerated() {
            let body: JSONObject = [
                "town_id": .string(town), "year": 2025, "age_3": .int(Int64(1000 + t)), "age_4": 1010, "age_5": 1020,
            ]
            records.append(Record(type: .populationCohort, key: town + "|2025", body: body))
        }
        for i in 0..<institutions {
            let id = "inst-\(i)"
            if i % 5 != 4 {
                records.append(Record(type: .preschoolCensus, key: id + "|2025", body: SyntheticProvince.census(id, classes, &random)))
                let devices: [JSONValue] = random.below(10) == 0 ? [] : [.string("alarm-\(id)")]
                let inventory: JSONObject = [
                    "institution_id": .string(id), "alarm_devices": .array(devices), "cctv_police_linked": .bool(random.below(10) > 0),
                    "cameras": 10, "cameras_linked": 10, "closed_management": true, "guards_required": 1,
                    "guards_full_time": .int(Int64(random.below(3))),
                ]
                records.append(Record(type: .safetyInventory, key: id, body: inventory))
                if !devices.isEmpty {
                    let heartbeat: JSONObject = [
                        "device_id": .string("alarm-\(id)"), "institution_id": .string(id), "device_kind": "alarm",
                        "at": "2025-10-01T07:59:00Z", "status": random.below(50) == 0 ? "fault" : "ok",
                    ]
                    records.append(Record(type: .safetyHeartbeat, key: "alarm-\(id)", body: heartbeat))
                }
            } else {
                var rows: [JSONValue] = []
                for c in 0..<classes {
                    rows.append(["class_id": .string("c\(c)"), "grade": .int(Int64(c % 6 + 1)), "students": .int(Int64(40 + random.below(20)))])
                }
                let body: JSONObject = [
                    "institution_id": .string(id), "year": 2025, "students": .int(Int64(45 * classes)),
                    "migrant_students": .int(Int64(random.below(100))), "classes": .array(rows),
                ]
                records.append(Record(type: .compulsoryCensus, key: id + "|2025", body: body))
            }
        }
        let city: [(FeedType, JSONObject)] = [
            (.financeYear, ["year": 2025, "preschool_fiscal_wan": 112000, "education_fiscal_wan": 1586500.5, "public_kg_per_pupil_yuan": 550, "inclusive_private_subsidy_yuan": 520]),
            (.surveyRecognition, ["year": 2025, "respondents": 10000, "satisfied": 8800]),
            (.compulsoryRetention, ["year": 2025, "grade9_students": 48000, "cohort_entrants": 50000]),
            (.specialPopulation, ["year": 2025, "disabled_school_age": 3000, "enrolled": 2950, "home_delivered": 200, "disabled_preschool_age_certified": 400]),
            (.talentYear, ["year": 2025, "county_famous_teachers": 600, "city_excellent_teachers": 100, "studios": ["provincial": 10, "city": 60, "county": 200]]),
        ]
        for (type, body) in city { records.append(Record(type: type, key: "2025", body: body)) }
        for p in 0..<(towns * 2) {
            let body: JSONObject = [
                "project_id": .string("p\(p)"), "name": .string("p\(p)"), "kind": ["kindergarten", "primary", "junior"][p % 3],
                "seats_planned": 300, "seats_delivered": .int(Int64(random.below(301))), "investment_planned_wan": 1000,
                "invested_wan": 900.5, "due": "2025-08-31", "status": p % 4 == 0 ? "building" : "done",
            ]
            records.append(Record(type: .projectProgress, key: "p\(p)", body: body))
        }
    }

    static func census(_ id: String, _ classes: Int, _ random: inout SplitMix) -> JSONObject {
        var rows: [JSONValue] = []
        var children = 0
        for c in 0..<classes {
            let size = 18 + random.below(20)
            children += size
            rows.append([
                "class_id": .string("c\(c)"), "level": .string(levels[c % 4]), "children": .int(Int64(size)),
                "teachers": .int(Int64(1 + random.below(2))), "caregivers": .int(Int64(random.below(2))),
            ])
        }
        let teachers = max(1, children / 14 + random.below(3))
        return [
            "institution_id": .string(id), "year": 2025, "classes": .array(rows), "full_time_teachers": .int(Int64(teachers)),
            "caregivers": .int(Int64(classes)), "staff_total": .int(Int64(teachers + classes + 3)),
            "certified_teachers": .int(Int64(teachers - random.below(2))), "disabled_children_certified": .int(Int64(random.below(2))),
        ]
    }

    /// A new version of a random kindergarten's census.
    func changedCensus(_ random: inout SplitMix) -> Record {
        let id = kindergartens[random.below(kindergartens.count)]
        return Record(type: .preschoolCensus, key: id + "|2025", body: SyntheticProvince.census(id, classesPerInstitution, &random))
    }
}
