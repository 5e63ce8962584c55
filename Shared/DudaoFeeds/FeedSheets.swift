/// How one body field is typed into a spreadsheet cell (xlsx in and out, `dudao template`).
public enum ColumnKind: Sendable, Equatable {
    /// An identifier: text; a number typed in is taken as its integer spelling (`12` → `"12"`).
    case identifier
    case text
    /// One of `values` (as on the wire); the Chinese label of a value is accepted too.
    case choice([String])
    case integer
    /// A count or an amount of money; decimals allowed.
    case number
    /// TRUE/FALSE, 是/否, 1/0.
    case bool
    /// `2024-08-31`; an Excel date is turned into this.
    case date
    /// RFC 3339; an Excel date and time is read as Beijing time (UTC+8).
    case timestamp
    /// A list of identifiers in one cell, separated by commas, 、, semicolons or spaces.
    case identifiers
}

/// One column of a feed type's sheet.
public struct FeedColumn: Sendable {
    /// The body field; `classes.children` is a field of each element of `classes`,
    /// `studios.city` a field of the object `studios`.
    public var field: String
    /// The Chinese header (`幼儿数`).
    public var zh: String
    public var kind: ColumnKind
    public var optional: Bool
    /// What the template's example row holds.
    public var example: String
    /// The allowed range of an integer; nil: any integer >= 0.
    public var range: ClosedRange<Int64>?
    /// The longest text, in characters.
    public var maxLength: Int?

    /// `班级幼儿数（classes.children）`: the header `dudao template` writes; the reader also
    /// takes the Chinese name alone or the field alone.
    public var header: String { "\(zh)（\(field)）" }
}

/// A feed type as a sheet: one row per feed, or, for a type with an array of objects
/// (`classes`), one row per element, the feed's own columns filled on its first row (repeating
/// them on the next rows is allowed, changing them is not).
public struct FeedSheet: Sendable {
    public var type: FeedType
    public var titleZh: String
    public var columns: [FeedColumn]
    /// The array field whose elements are rows (`classes`), if any.
    public var rowsField: String?
    /// The columns that tell one feed from the next when `rowsField` is set.
    public var key: [String]

    public static func of(_ type: FeedType) -> FeedSheet { all[type]! }

    public static let all: [FeedType: FeedSheet] = Dictionary(
        uniqueKeysWithValues: FeedType.allCases.map { ($0, FeedSheetLabels.build($0)) })

    /// The Chinese name of a choice value (`small` → `小班`).
    public static func choiceZh(_ value: String) -> String? { FeedSheetLabels.choices[value] }
}

/// The Chinese names, cell kinds and examples of every field. The field names, their order
/// and the choice values come from the validator's own lists, so a field added there without
/// a label here fails `FeedSheetTests`.
enum FeedSheetLabels {
    struct Label {
        var zh: String
        var kind: ColumnKind
        var example: String
        var optional = false
        var range: ClosedRange<Int64>? = nil
        var maxLength: Int? = nil
    }

    static let asOf = Label(zh: "数据截至时间", kind: .timestamp, example: "2025-09-30T00:00:00+08:00", optional: true)

    static let titles: [FeedType: String] = [
        .registryTown: "镇街登记", .registryInstitution: "学校幼儿园登记", .populationCohort: "适龄儿童人口",
        .preschoolCensus: "幼儿园普查", .compulsoryCensus: "义务教育学校普查", .compulsoryRetention: "九年义务教育巩固率",
        .specialPopulation: "残疾儿童少年入学", .financeYear: "教育经费", .surveyRecognition: "群众满意度调查",
        .talentYear: "教师队伍建设", .projectProgress: "学位建设项目", .safetyInventory: "幼儿园安全设施台账",
        .safetyHeartbeat: "设备心跳", .safetyAlarm: "一键报警",
    ]

    static let choices: [String: String] = [
        "town": "镇", "street": "街道",
        "kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "nine_year": "九年一贯制学校", "senior_high": "高中",
        "special": "特殊教育学校",
        "public": "公办", "inclusive_private": "普惠性民办", "private": "民办",
        "small": "小班", "middle": "中班", "large": "大班", "mixed": "混龄班",
        "planned": "计划", "building": "在建", "done": "已完成",
        "alarm": "一键报警", "cctv_link": "视频联网", "ok": "正常", "fault": "故障",
    ]

    static func build(_ type: FeedType) -> FeedSheet {
        let (fields, nested, rowsField, key) = FeedValidator.sheetFields(type)
        let labels = self.labels[type] ?? [:]
        var columns: [FeedColumn] = []
        for field in fields {
            if let inner = nested[field] {
                for name in inner {
                    let path = field + "." + name
                    let label = labels[path] ?? Label(zh: path, kind: .text, example: "")
                    columns.append(label.column(path))
                }
            } else {
                let label = labels[field] ?? (field == "as_of" ? asOf : Label(zh: field, kind: .text, example: ""))
                columns.append(label.column(field))
            }
        }
        return FeedSheet(type: type, titleZh: titles[type] ?? type.rawValue, columns: columns, rowsField: rowsField, key: key)
    }

    static func count(_ zh: String, _ example: String) -> Label { Label(zh: zh, kind: .integer, example: example) }
    static func area(_ zh: String, _ example: String) -> Label { Label(zh: zh, kind: .number, example: example, optional: true) }
    static func classSize(_ zh: String, _ example: String) -> Label {
        Label(zh: zh, kind: .integer, example: example, range: 0...FeedValidator.maxClassSize)
    }
    static func name(_ zh: String, _ example: String) -> Label {
        Label(zh: zh, kind: .text, example: example, maxLength: FeedValidator.maxNameLength)
    }
    static func money(_ zh: String, _ example: String) -> Label { Label(zh: zh, kind: .number, example: example) }
    static let year = Label(zh: "年度", kind: .integer, example: "2025", range: FeedValidator.years)

    static let labels: [FeedType: [String: Label]] = [
        .registryTown: [
            "town_id": Label(zh: "镇街代码", kind: .identifier, example: "dongcheng"),
            "name": name("镇街名称", "东成镇"),
            "kind": Label(zh: "类型", kind: .choice(TownKind.wireValues), example: "town"),
        ],
        .registryInstitution: [
            "institution_id": Label(zh: "机构代码", kind: .identifier, example: "kg-dongcheng-01"),
            "name": name("机构名称", "东成镇中心幼儿园"),
            "town_id": Label(zh: "所属镇街代码", kind: .identifier, example: "dongcheng"),
            "level": Label(zh: "学段", kind: .choice(InstitutionLevel.allCases.map(\.rawValue)), example: "kindergarten"),
            "ownership": Label(zh: "办学性质", kind: .choice(Ownership.allCases.map(\.rawValue)), example: "public"),
            "town_central": Label(zh: "是否镇中心幼儿园", kind: .bool, example: "TRUE", optional: true),
        ],
        .populationCohort: [
            "town_id": Label(zh: "镇街代码", kind: .identifier, example: "dongcheng"), "year": year,
            "age_3": count("3岁常住儿童数", "400"), "age_4": count("4岁常住儿童数", "410"), "age_5": count("5岁常住儿童数", "420"),
        ],
        .preschoolCensus: [
            "institution_id": Label(zh: "幼儿园代码", kind: .identifier, example: "kg-dongcheng-01"), "year": year,
            "classes.class_id": Label(zh: "班级编号", kind: .identifier, example: "s1"),
            "classes.level": Label(zh: "班级类型", kind: .choice(PreschoolClassLevel.wireValues), example: "small"),
            "classes.children": classSize("班级幼儿数", "25"), "classes.teachers": count("班级教师数", "2"),
            "classes.caregivers": count("班级保育员数", "1"),
            "full_time_teachers": count("专任教师数", "4"), "caregivers": count("保育员数", "2"), "staff_total": count("教职工总数", "8"),
            "certified_teachers": count("持证专任教师数", "4"), "disabled_children_certified": count("持证残疾幼儿数", "1"),
            "principals": Label(zh: "园长数", kind: .integer, example: "1", optional: true),
            "certified_principals": Label(zh: "持证园长数", kind: .integer, example: "1", optional: true),
            "outdoor_area_m2": area("户外活动场地面积（平方米）", "1200"), "activity_room_area_m2": area("活动室面积（平方米）", "560"),
            "building_area_m2": area("园舍建筑面积（平方米）", "2600"),
        ],
        .compulsoryCensus: [
            "institution_id": Label(zh: "学校代码", kind: .identifier, example: "ps-dongcheng-01"), "year": year,
            "students": count("在校生数", "600"), "migrant_students": count("随迁子女数", "80"),
            "classes.class_id": Label(zh: "班级编号", kind: .identifier, example: "1a"),
            "classes.grade": Label(zh: "年级", kind: .integer, example: "1", range: FeedValidator.grades),
            "classes.students": classSize("班级学生数", "45"),
        ],
        .compulsoryRetention: [
            "year": year, "grade9_students": count("九年级在校生数", "4800"), "cohort_entrants": count("该届入学人数", "5000"),
        ],
        .specialPopulation: [
            "year": year, "disabled_school_age": count("适龄残疾儿童少年数", "300"), "enrolled": count("已入学数", "295"),
            "home_delivered": count("送教上门数", "20"), "disabled_preschool_age_certified": count("学前持证残疾儿童数", "40"),
        ],
        .financeYear: [
            "year": year, "preschool_fiscal_wan": money("学前教育财政投入（万元）", "11200"),
            "education_fiscal_wan": money("教育财政投入（万元）", "160000.5"),
            "public_kg_per_pupil_yuan": money("公办园生均公用经费（元）", "550"),
            "inclusive_private_subsidy_yuan": money("普惠性民办园生均补助（元）", "520"),
        ],
        .surveyRecognition: ["year": year, "respondents": count("受访人数", "1000"), "satisfied": count("满意人数", "900")],
        .talentYear: [
            "year": year, "county_famous_teachers": count("县级名教师数", "62"), "city_excellent_teachers": count("市级优秀教师数", "11"),
            "studios.provincial": count("省级名师工作室数", "1"), "studios.city": count("市级名师工作室数", "6"),
            "studios.county": count("县级名师工作室数", "21"),
        ],
        .projectProgress: [
            "project_id": Label(zh: "项目编号", kind: .identifier, example: "p-kg-01"),
            "name": name("项目名称", "东成镇中心幼儿园扩建"),
            "kind": Label(zh: "类型", kind: .choice(ProjectKind.wireValues), example: "kindergarten"),
            "seats_planned": count("计划学位数", "360"), "seats_delivered": count("已交付学位数", "360"),
            "investment_planned_wan": money("计划投资（万元）", "1200"), "invested_wan": money("已完成投资（万元）", "1180.5"),
            "due": Label(zh: "计划完成日期", kind: .date, example: "2024-08-31"),
            "status": Label(zh: "状态", kind: .choice(ProjectStatus.wireValues), example: "done"),
        ],
        .safetyInventory: [
            "institution_id": Label(zh: "机构代码", kind: .identifier, example: "kg-dongcheng-01"),
            "alarm_devices": Label(zh: "一键报警设备编号", kind: .identifiers, example: "alarm-dc01-1, alarm-dc01-2"),
            "cctv_police_linked": Label(zh: "视频监控与公安联网", kind: .bool, example: "TRUE"),
            "cameras": count("摄像头数", "24"), "cameras_linked": count("联网摄像头数", "24"),
            "closed_management": Label(zh: "封闭管理", kind: .bool, example: "TRUE"),
            "guards_required": count("应配保安数", "2"), "guards_full_time": count("专职保安数", "2"),
        ],
        .safetyHeartbeat: [
            "device_id": Label(zh: "设备编号", kind: .identifier, example: "alarm-dc01-1"),
            "institution_id": Label(zh: "机构代码", kind: .identifier, example: "kg-dongcheng-01"),
            "device_kind": Label(zh: "设备类型", kind: .choice(DeviceKind.wireValues), example: "alarm"),
            "at": Label(zh: "上报时间", kind: .timestamp, example: "2026-11-29T08:00:00+08:00"),
            "status": Label(zh: "状态", kind: .choice(DeviceStatus.wireValues), example: "ok"),
        ],
        .safetyAlarm: [
            "device_id": Label(zh: "设备编号", kind: .identifier, example: "alarm-dc01-1"),
            "institution_id": Label(zh: "机构代码", kind: .identifier, example: "kg-dongcheng-01"),
            "at": Label(zh: "报警时间", kind: .timestamp, example: "2026-11-29T08:01:00+08:00"),
            "note": Label(zh: "备注", kind: .text, example: "演练：一键报警测试", optional: true, maxLength: FeedValidator.maxNoteLength),
        ],
    ]
}

extension FeedSheetLabels.Label {
    func column(_ field: String) -> FeedColumn {
        FeedColumn(field: field, zh: zh, kind: kind, optional: optional, example: example, range: range, maxLength: maxLength)
    }
}

extension FeedValidator {
    /// A type's body fields in the validator's order, the fields of its nested objects, the
    /// array whose elements are sheet rows, and the columns keying one feed.
    static func sheetFields(_ type: FeedType) -> (fields: [String], nested: [String: [String]], rowsField: String?, key: [String]) {
        switch type {
        case .registryTown: (registryTownFields, [:], nil, [])
        case .registryInstitution: (registryInstitutionFields, [:], nil, [])
        case .populationCohort: (populationCohortFields, [:], nil, [])
        case .preschoolCensus: (preschoolCensusFields, ["classes": preschoolClassFields], "classes", ["institution_id", "year"])
        case .compulsoryCensus: (compulsoryCensusFields, ["classes": compulsoryClassFields], "classes", ["institution_id", "year"])
        case .compulsoryRetention: (compulsoryRetentionFields, [:], nil, [])
        case .specialPopulation: (specialPopulationFields, [:], nil, [])
        case .financeYear: (financeYearFields, [:], nil, [])
        case .surveyRecognition: (surveyRecognitionFields, [:], nil, [])
        case .talentYear: (talentYearFields, ["studios": studioFields], nil, [])
        case .projectProgress: (projectProgressFields, [:], nil, [])
        case .safetyInventory: (safetyInventoryFields, [:], nil, [])
        case .safetyHeartbeat: (safetyHeartbeatFields, [:], nil, [])
        case .safetyAlarm: (safetyAlarmFields, [:], nil, [])
        }
    }
}
