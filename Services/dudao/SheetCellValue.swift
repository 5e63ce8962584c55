import DudaoCore
import DudaoFeeds
import DudaoSheets
import Foundation

/// A cell as a body value, by its column's kind. What does not fit the kind is passed on as the
/// text typed, so that dudao-ingest's refusal names the field and says what it expects.
enum SheetCellValue {
    static func value(_ cell: SheetCell, kind: ColumnKind) -> JSONValue? {
        switch cell {
        case .empty: return nil
        case .error(let code): return .string(code)
        case .bool(let flag):
            if kind == .bool { return .bool(flag) }
            return .string(flag ? "TRUE" : "FALSE")
        case .number(let spelling): return number(spelling, kind: kind)
        case .text(let raw):
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { return nil }
            return self.text(text, raw: raw, kind: kind)
        }
    }

    private static func number(_ spelling: String, kind: ColumnKind) -> JSONValue {
        let double = Double(spelling)
        switch kind {
        case .identifier, .text, .choice:
            return .string(integral(spelling, double).map(String.init) ?? spelling)
        case .identifiers:
            return .array([.string(integral(spelling, double).map(String.init) ?? spelling)])
        case .integer, .number:
            if let whole = integral(spelling, double) { return .int(whole) }
            return double.map(JSONValue.double) ?? .string(spelling)
        case .bool:
            if double == 1 { return .bool(true) }
            if double == 0 { return .bool(false) }
            return .string(spelling)
        case .date:
            return double.flatMap(ExcelDate.date(serial:)).map(JSONValue.string) ?? .string(spelling)
        case .timestamp:
            return double.flatMap { ExcelDate.timestamp(serial: $0) }.map(JSONValue.string) ?? .string(spelling)
        }
    }

    /// `12`, `12.0`, `1.2E1` → 12; nil for a fraction or what is not a number.
    private static func integral(_ spelling: String, _ double: Double?) -> Int64? {
        if let whole = Int64(spelling) { return whole }
        guard let double, double.isFinite, double == double.rounded(), abs(double) < 9e15 else { return nil }
        return Int64(double)
    }

    private static func text(_ text: String, raw: String, kind: ColumnKind) -> JSONValue {
        switch kind {
        case .identifier, .text: return .string(kind == .text ? raw : text)
        case .choice(let values):
            if values.contains(text) { return .string(text) }
            if let value = values.first(where: { FeedSheet.choiceZh($0) == text }) { return .string(value) }
            return .string(text)
        case .integer, .number:
            if let whole = Int64(text) { return .int(whole) }
            if let double = Double(text), double.isFinite { return .double(double) }
            return .string(text)
        case .bool:
            switch text.lowercased() {
            case "true", "是", "y", "yes", "1", "√": return .bool(true)
            case "false", "否", "n", "no", "0", "×": return .bool(false)
            default: return .string(text)
            }
        case .date: return .string(date(text) ?? text)
        case .timestamp: return .string(timestamp(text) ?? text)
        case .identifiers:
            let separators = CharacterSet(charactersIn: ",，、;；").union(.whitespacesAndNewlines)
            return .array(text.components(separatedBy: separators).filter { !$0.isEmpty }.map(JSONValue.string))
        }
    }

    /// `2024/8/31` or `2024-8-31` → `2024-08-31`; nil when it is not that shape.
    static func date(_ text: String) -> String? {
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == "-" || $0 == "." })
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), parts[0].count == 4 else { return nil }
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// `2026-11-29 08:00` or `2026/11/29 8:00:00` (no offset) → `2026-11-29T08:00:00+08:00`,
    /// Beijing time; nil when it is not that shape (RFC 3339 text is left as typed).
    static func timestamp(_ text: String) -> String? {
        let halves = text.split(separator: " ", omittingEmptySubsequences: true)
        guard halves.count == 2, let day = date(String(halves[0])) else { return nil }
        let clock = halves[1].split(separator: ":").map { Int($0) }
        guard (2...3).contains(clock.count), clock.allSatisfy({ $0 != nil }) else { return nil }
        let h = clock[0]!, m = clock[1]!, s = clock.count == 3 ? clock[2]! : 0
        guard (0..<24).contains(h), (0..<60).contains(m), (0..<61).contains(s) else { return nil }
        return day + String(format: "T%02d:%02d:%02d+08:00", h, m, s)
    }
}
