import DudaoCore

/// The town and kindergarten pages' lists, from `safety.institutions` and `safety.devices`.
enum DrillDownView {
    static let stateNames = ["online": "在线", "offline": "离线", "fault": "故障", "never_seen": "从未上线", "retired": "已移出台账"]
    static let stateCSS = ["online": "ok", "offline": "bad", "fault": "bad", "never_seen": "warn", "retired": "none"]
    static let kindNames = ["alarm": "一键报警", "cctv_link": "视频联网"]
    static let levelNames = [
        "kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "nine_year": "九年一贯制", "senior_high": "高中", "special": "特殊教育学校",
    ]

    static func text(_ value: JSONValue?) -> String { value?.stringValue ?? "" }

    /// One institution row (town page) or the institution itself (kindergarten page).
    static func institution(_ row: JSONValue) -> JSONObject {
        let compliant = row["compliant"]?.boolValue == true
        let unreported = row["unreported"]?.boolValue == true
        let devices = row["devices"] ?? [:]
        let reasons = (row["reasons"]?.arrayValue ?? []).map { JSONValue.string(text($0["text"])) }
        var model: JSONObject = [
            "institution_id": .string(text(row["institution_id"])), "name": .string(text(row["name"])),
            "level": .string(levelNames[text(row["level"])] ?? text(row["level"])),
            "town_id": .string(text(row["town_id"])), "town_name": .string(text(row["town_name"])),
            "css": .string(compliant ? "ok" : (unreported ? "warn" : "bad")),
            "label": .string(compliant ? "四项全部达标" : (unreported ? "未报送台账" : "不达标")),
            "reasons": .array(reasons), "has_reasons": .bool(!reasons.isEmpty),
            "alarm_online": .string("\(devices["alarm_online"]?.intValue ?? 0)/\(devices["alarm"]?.intValue ?? 0)"),
            "offline": .int(devices["offline"]?.intValue ?? 0), "fault": .int(devices["fault"]?.intValue ?? 0),
            "never_seen": .int(devices["never_seen"]?.intValue ?? 0),
            "has_problem_devices": .bool(
                (devices["offline"]?.intValue ?? 0) + (devices["fault"]?.intValue ?? 0) + (devices["never_seen"]?.intValue ?? 0) > 0),
        ]
        if let inventory = row["inventory"], inventory != .null {
            func yes(_ key: String) -> String { inventory[key]?.boolValue == true ? "是" : "否" }
            model["inventory"] = [
                "as_of": .string(DashboardView.beijingTime(inventory["as_of"]?.stringValue)),
                "alarm_devices": .string((inventory["alarm_devices"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "、")),
                "cctv": .string("\(yes("cctv_police_linked"))（\(inventory["cameras_linked"]?.intValue ?? 0)/\(inventory["cameras"]?.intValue ?? 0) 路摄像头联网）"),
                "closed": .string(yes("closed_management")),
                "guards": .string("\(inventory["guards_full_time"]?.intValue ?? 0) 名（需 \(max(inventory["guards_required"]?.intValue ?? 0, 1)) 名）"),
            ]
        }
        return model
    }

    static func device(_ row: JSONValue) -> JSONValue {
        let state = text(row["state"])
        let seen = row["last_heartbeat_at"]?.stringValue
        return [
            "device_id": .string(text(row["device_id"])), "kind": .string(kindNames[text(row["kind"])] ?? text(row["kind"])),
            "state": .string(stateNames[state] ?? state), "css": .string(stateCSS[state] ?? "none"),
            "institution_id": .string(text(row["institution_id"])), "institution": .string(text(row["institution_name"])),
            "last_heartbeat": .string(seen == nil ? "从未收到" : DashboardView.beijingTime(seen)),
            "since": .string(row["since"]?.stringValue == nil ? "-" : DashboardView.beijingTime(row["since"]?.stringValue)),
        ]
    }

    /// The town page's lists: its kindergartens (not compliant first) and its problem devices.
    static func town(institutions: JSONValue, devices: JSONValue) -> JSONObject {
        let rows = (institutions["institutions"]?.arrayValue ?? []).map(institution)
        let sorted = rows.filter { $0["css"] != "ok" } + rows.filter { $0["css"] == "ok" }
        let deviceRows = (devices["devices"]?.arrayValue ?? []).map(device)
        let count = devices["count"]?.intValue ?? 0
        return [
            "kindergartens": .array(sorted.map { .object($0) }),
            "kindergarten_count": .int(institutions["count"]?.intValue ?? 0),
            "compliant_count": .int(institutions["compliant"]?.intValue ?? 0),
            "devices": .array(deviceRows), "has_devices": .bool(!deviceRows.isEmpty),
            "device_count": .int(count), "devices_cut": .bool(count > Int64(deviceRows.count)),
        ]
    }
}
