import DudaoCore
import DudaoFeeds
import Foundation

/// A reporting file that cannot be used: the file and what is wrong, for exit 78.
struct ReportingFileError: Error, CustomStringConvertible {
    var description: String
}

/// Which feeds every institution owes each year and by when (`deploy/reporting.json`,
/// `reporting_file` in the configuration): the basis of data completeness and timeliness.
///
/// ```json
/// {"feeds": [{"type": "preschool.census", "levels": ["kindergarten"], "yearly": true,
///             "due": "09-30", "due_by_year": {"2025": "2025-10-15"}, "remind_days": 14}]}
/// ```
///
/// - `yearly`: one record per institution and year (a census, keyed by year); otherwise one
///   record per institution that is kept current (an inventory): sent once is sent.
/// - `due`: month and day, every year, end of that day in Beijing time; `due_by_year` moves it
///   for a year. A record first received after the due date is late.
/// - `remind_days`: how long before the due date the towns with missing reports are reminded.
struct ReportingSchedule: Sendable {
    /// Whether institutions can owe `type` as a report: the only types a schedule may list, and
    /// the only ones whose first arrivals are kept (``Arrivals``).
    static func isReport(_ type: FeedType) -> Bool {
        switch type {
        case .preschoolCensus, .compulsoryCensus, .safetyInventory: true
        default: false
        }
    }

    struct Feed: Sendable {
        var type: FeedType
        var levels: Set<String>
        var yearly: Bool
        /// `MM-DD`.
        var due: String
        /// Year → `YYYY-MM-DD`.
        var dueByYear: [Int: String]
        var remindDays: Int

        /// The end of the due day of `year`, Beijing time.
        func dueDate(year: Int) -> Timestamp {
            let day = dueByYear[year] ?? "\(year)-\(due)"
            return Timestamp(rfc3339: "\(day)T23:59:59.999+08:00") ?? Timestamp(millis: 0)
        }
    }

    var feeds: [Feed]

    static let none = ReportingSchedule(feeds: [])

    /// Reads the schedule; an error names the feed and the member.
    static func load(path: String) throws(ReportingFileError) -> ReportingSchedule {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportingFileError(description: "cannot read the reporting file \(path)")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(data))
        } catch {
            throw ReportingFileError(description: "\(path): not JSON: \(error.reason)")
        }
        return try parse(root, file: path)
    }

    static func parse(_ root: JSONValue, file: String) throws(ReportingFileError) -> ReportingSchedule {
        func fail(_ message: String) -> ReportingFileError { ReportingFileError(description: "\(file): \(message)") }
        guard let top = root.objectValue, let list = top["feeds"]?.arrayValue else { throw fail("needs \"feeds\": an array of feed objects") }
        for member in top.keys where member != "feeds" { throw fail("unknown member \"\(member)\"; allowed: feeds") }
        let allowed: Set<String> = ["type", "levels", "yearly", "due", "due_by_year", "remind_days"]
        var feeds: [Feed] = []
        for (index, element) in list.enumerated() {
            let at = "feeds[\(index)]"
            guard let object = element.objectValue else { throw fail("\(at) must be an object") }
            for member in object.keys where !allowed.contains(member) {
                throw fail("\(at).\(member) is not a member; allowed: \(allowed.sorted().joined(separator: ", "))")
            }
            guard let typeText = object["type"]?.stringValue, let type = FeedType(rawValue: typeText) else {
                throw fail("\(at).type must be a feed type")
            }
            guard Self.isReport(type) else {
                throw fail("\(at).type: \(typeText) is not a report institutions owe (preschool.census, compulsory.census, safety.inventory)")
            }
            guard let levels = object["levels"]?.arrayValue?.compactMap(\.stringValue), !levels.isEmpty,
                levels.allSatisfy({ InstitutionLevel(rawValue: $0) != nil })
            else {
                throw fail("\(at).levels must list institution levels (\(InstitutionLevel.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let yearly = object["yearly"]?.boolValue else { throw fail("\(at).yearly must be true or false") }
            guard let due = object["due"]?.stringValue, Timestamp.isValidDate("2024-\(due)") else {
                throw fail("\(at).due must be a month and day, \"MM-DD\"")
            }
            var byYear: [Int: String] = [:]
            for member in object["due_by_year"]?.objectValue ?? [:] {
                guard let year = Int(member.key), (2000...2100).contains(year), let day = member.value.stringValue,
                    Timestamp.isValidDate(day), let dueYear = Int(day.prefix(4)), dueYear >= year
                else { throw fail("\(at).due_by_year.\(member.key) must be a date \"YYYY-MM-DD\" in that year or later") }
                byYear[year] = day
            }
            let remind = object["remind_days"]?.intValue ?? 14
            guard (0...366).contains(remind) else { throw fail("\(at).remind_days must be from 0 to 366") }
            feeds.append(Feed(type: type, levels: Set(levels), yearly: yearly, due: due, dueByYear: byYear, remindDays: Int(remind)))
        }
        return ReportingSchedule(feeds: feeds)
    }
}
