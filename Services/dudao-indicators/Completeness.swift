import DudaoCore
import DudaoEvaluation
import DudaoFeeds

/// The keys of ``IndicatorsModel/arrivals``: `<type>|<record key>`. Only reports are kept
/// (``ReportingSchedule/isReport(_:)``): completeness asks for nothing else, and a heartbeat's
/// arrival cost a string, a dictionary entry and a row per device for nothing.
enum Arrivals {
    static func key(_ type: String, _ key: String) -> String { type + "|" + key }
}

extension IndicatorsModel {
    /// One owed report of one institution in `year`: sent (first received when), late, missing.
    struct Report: Sendable {
        var institution: String
        var town: String
        var firstReceived: Int64?
        var late: Bool
    }

    /// The reports `feed` expects in `year`, one per registered institution of its levels.
    func reports(_ feed: ReportingSchedule.Feed, year: Int) -> [Report] {
        let due = feed.dueDate(year: year).millis
        return engine.registeredInstitutions.filter { feed.levels.contains($0.value.level) }.sorted { $0.key < $1.key }.map {
            id, info in
            let key = feed.yearly ? "\(id)|\(year)" : id
            let first = arrivals[Arrivals.key(feed.type.rawValue, key)]
            return Report(institution: id, town: info.town, firstReceived: first, late: first.map { $0 > due } ?? false)
        }
    }

    /// `indicators.completeness`: for each report owed (or the one of `type`), who has sent it,
    /// who sent it late (first received after the due date) and who has not, for the city and
    /// per town, with the reporting rate (sent of expected) and the on-time rate. A missing
    /// report is listed as missing: the indicators it feeds are computed without it.
    func completeness(year: Int, type: FeedType?, now: Timestamp) -> JSONValue {
        var feeds: [JSONValue] = []
        for feed in schedule.feeds where type == nil || feed.type == type {
            let due = feed.dueDate(year: year)
            let reports = reports(feed, year: year)
            var towns: [JSONValue] = []
            for town in Set(reports.map(\.town)).sorted() {
                let local = reports.filter { $0.town == town }
                var row = Self.tally(local)
                row["town_id"] = .string(town)
                row["name"] = .string(names.towns[town] ?? town)
                row["missing_institutions"] = .array(
                    local.filter { $0.firstReceived == nil }.map {
                        ["institution_id": .string($0.institution), "name": .string(names.institutions[$0.institution]?.name ?? $0.institution)]
                    })
                row["late_institutions"] = .array(
                    local.filter(\.late).map {
                        [
                            "institution_id": .string($0.institution), "name": .string(names.institutions[$0.institution]?.name ?? $0.institution),
                            "first_received_at": .string(Timestamp(millis: $0.firstReceived ?? 0).description),
                        ]
                    })
                towns.append(.object(row))
            }
            var row = Self.tally(reports)
            row["type"] = .string(feed.type.rawValue)
            row["title_zh"] = .string(FeedSheet.of(feed.type).titleZh)
            row["yearly"] = .bool(feed.yearly)
            row["due"] = .string(due.description)
            row["overdue"] = .bool(now > due)
            row["towns"] = .array(towns)
            feeds.append(.object(row))
        }
        return ["year": .int(Int64(year)), "feeds": .array(feeds)]
    }

    /// Expected, sent, on time, late, missing and the two rates (percent; null with nothing expected).
    static func tally(_ reports: [Report]) -> JSONObject {
        let expected = reports.count
        let sent = reports.filter { $0.firstReceived != nil }.count
        let late = reports.filter(\.late).count
        func rate(_ part: Int) -> JSONValue { number(expected == 0 ? nil : Double(part) * 100 / Double(expected)) }
        return [
            "expected": .int(Int64(expected)), "sent": .int(Int64(sent)), "on_time": .int(Int64(sent - late)), "late": .int(Int64(late)),
            "missing": .int(Int64(expected - sent)), "reporting_rate": rate(sent), "on_time_rate": rate(sent - late),
        ]
    }

    /// The reports an indicator's formula reads that are missing in `year`, by type: the
    /// readiness report shows them beside the value, so a missing census reads as missing.
    /// `missing`: ``missingCounts(year:)``, worked out once per request.
    func missingReports(for indicator: String, missing: [FeedType: Int]) -> [JSONValue] {
        let read = engine.catalog.feeds(of: indicator)
        return schedule.feeds.filter { read.contains($0.type) }.compactMap { feed in
            let count = missing[feed.type] ?? 0
            return count == 0 ? nil : ["type": .string(feed.type.rawValue), "title_zh": .string(FeedSheet.of(feed.type).titleZh), "missing": .int(Int64(count))]
        }
    }

    /// How many reports of each owed type are missing in `year`.
    func missingCounts(year: Int) -> [FeedType: Int] {
        var counts: [FeedType: Int] = [:]
        for feed in schedule.feeds { counts[feed.type] = reports(feed, year: year).filter { $0.firstReceived == nil }.count }
        return counts
    }
}
