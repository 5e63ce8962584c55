import DudaoCore
import DudaoSheets

/// `dudao safety --xlsx`: what safety staff forward or file, as a workbook. 镇街合规: the four
/// rates per town and the city (percent, as numbers); 设备: the offline and faulty devices;
/// 未关闭报警: the open alarms. Times are Beijing time.
enum SafetyWorkbook {
    static func write(_ lists: SafetyCommand.SafetyLists, scope: String?, to path: String) throws {
        let writer = try XlsxWriter(path: path)
        let rateNames = ["一键报警", "视频联网", "封闭管理", "专职保安"]
        try writer.addSheet("镇街合规", columns: ([14, 16, 10, 10] + rateNames.map { _ in 12.0 } + [10, 10]).map { XlsxWriter.Column(width: $0) }) {
            rows in
            try rows.append((["镇街", "镇街代码", "幼儿园", "未报送"] + rateNames.map { $0 + "（%）" } + ["设备", "离线"]).map(SheetCell.text))
            func add(_ name: String, _ id: String, _ figures: JSONValue) throws {
                var cells: [SheetCell] = [
                    .text(name), .text(id), .number(figures["kindergartens"]?.intValue ?? 0),
                    .number(Int64(figures["unreported"]?.arrayValue?.count ?? 0)),
                ]
                let rates = figures["rates"]?.arrayValue ?? []
                for index in rateNames.indices {
                    let value = index < rates.count ? rates[index]["value"]?.doubleValue : nil
                    cells.append(value.map { SheetCell.number(($0 * 10).rounded() / 10) } ?? .empty)
                }
                cells += [.number(figures["devices"]?.intValue ?? 0), .number(figures["devices_offline"]?.intValue ?? 0)]
                try rows.append(cells)
            }
            for town in lists.overview["towns"]?.arrayValue ?? [] {
                let id = town["town_id"]?.stringValue ?? ""
                if let scope, scope != "town:\(id)" { continue }
                try add(town["name"]?.stringValue ?? id, id, town)
            }
            if scope == nil, let city = lists.overview["city"] { try add("全市", "city", city) }
        }
        try writer.addSheet("设备", columns: [10, 22, 14, 28, 22].map { XlsxWriter.Column(width: $0) }) { rows in
            try rows.append(["状态", "设备编号", "镇街", "机构", "最后心跳"].map(SheetCell.text))
            for device in lists.devices["devices"]?.arrayValue ?? [] {
                try rows.append([
                    .text(SafetyTable.stateZh(device["state"]?.stringValue)), .text(device["device_id"]?.stringValue ?? ""),
                    .text(device["town_name"]?.stringValue ?? ""), .text(device["institution_name"]?.stringValue ?? ""),
                    .text(SafetyTable.chinaTime(device["last_seen"]?.stringValue)),
                ])
            }
        }
        try writer.addSheet("未关闭报警", columns: [22, 14, 28, 22, 40].map { XlsxWriter.Column(width: $0) }) { rows in
            try rows.append(["报警时间", "镇街", "机构", "设备编号", "备注"].map(SheetCell.text))
            for alarm in lists.alarms["open"]?.arrayValue ?? [] {
                try rows.append([
                    .text(SafetyTable.chinaTime(alarm["at"]?.stringValue)), .text(alarm["town_name"]?.stringValue ?? ""),
                    .text(alarm["institution_name"]?.stringValue ?? ""), .text(alarm["device_id"]?.stringValue ?? ""),
                    .text(alarm["note"]?.stringValue ?? ""),
                ])
            }
        }
        try writer.close()
    }
}
