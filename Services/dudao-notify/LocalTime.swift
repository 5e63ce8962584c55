/// Wall-clock times for people: messages show times at a fixed offset from UTC (China Standard
/// Time by default), without Foundation's formatters.
struct LocalTime: Sendable {
    var offsetMinutes: Int

    struct Parts {
        var year, month, day, hour, minute, second: Int
        /// 0 = Sunday.
        var weekday: Int
    }

    func parts(_ millis: Int64) -> Parts {
        let seconds = (millis >= 0 ? millis / 1000 : (millis - 999) / 1000) + Int64(offsetMinutes * 60)
        let days = Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400)
        let secondOfDay = Int(seconds - Int64(days) * 86400)
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return Parts(
            year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60,
            weekday: ((days % 7) + 11) % 7)
    }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// `UTC+8`.
    var zoneName: String {
        let hours = offsetMinutes / 60
        let minutes = abs(offsetMinutes % 60)
        return "UTC\(offsetMinutes >= 0 ? "+" : "-")\(abs(hours))" + (minutes == 0 ? "" : ":\(Self.pad(minutes))")
    }

    /// `2026-11-29 16:01:00`.
    func format(_ millis: Int64) -> String {
        let p = parts(millis)
        return
            "\(Self.pad(p.year, 4))-\(Self.pad(p.month))-\(Self.pad(p.day)) \(Self.pad(p.hour)):\(Self.pad(p.minute)):\(Self.pad(p.second))"
    }

    /// RFC 5322 date for e-mail headers: `Sun, 29 Nov 2026 16:01:00 +0800`.
    func rfc5322(_ millis: Int64) -> String {
        let p = parts(millis)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let sign = offsetMinutes >= 0 ? "+" : "-"
        let zone = "\(sign)\(Self.pad(abs(offsetMinutes) / 60))\(Self.pad(abs(offsetMinutes) % 60))"
        return "\(days[p.weekday]), \(p.day) \(months[p.month - 1]) \(Self.pad(p.year, 4)) "
            + "\(Self.pad(p.hour)):\(Self.pad(p.minute)):\(Self.pad(p.second)) \(zone)"
    }
}
