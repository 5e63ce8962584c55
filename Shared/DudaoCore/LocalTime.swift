/// Wall-clock times for people, at a fixed offset from UTC (China Standard Time by default):
/// the one formatter behind alert messages, e-mail dates, the dashboard and the CLI's tables.
public struct LocalTime: Sendable, Equatable {
    public var offsetMinutes: Int

    /// China Standard Time (UTC+8, no daylight saving): Enping's clock.
    public static let beijing = LocalTime(offsetMinutes: 480)

    public init(offsetMinutes: Int) { self.offsetMinutes = offsetMinutes }

    public struct Parts: Sendable, Equatable {
        public var year, month, day, hour, minute, second: Int
        /// 0 = Sunday.
        public var weekday: Int
    }

    public func parts(_ millis: Int64) -> Parts {
        let seconds = (millis >= 0 ? millis / 1000 : (millis - 999) / 1000) + Int64(offsetMinutes * 60)
        let days = Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400)
        let secondOfDay = Int(seconds - Int64(days) * 86400)
        let (year, month, day) = Timestamp.civilFromDays(days)
        return Parts(
            year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60,
            weekday: ((days % 7) + 11) % 7)
    }

    public func parts(_ time: Timestamp) -> Parts { parts(time.millis) }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// `UTC+8`.
    public var zoneName: String {
        let hours = offsetMinutes / 60
        let minutes = abs(offsetMinutes % 60)
        return "UTC\(offsetMinutes >= 0 ? "+" : "-")\(abs(hours))" + (minutes == 0 ? "" : ":\(Self.pad(minutes))")
    }

    /// `2026-11-29 16:01:00`.
    public func format(_ millis: Int64) -> String {
        let p = parts(millis)
        return
            "\(Self.pad(p.year, 4))-\(Self.pad(p.month))-\(Self.pad(p.day)) \(Self.pad(p.hour)):\(Self.pad(p.minute)):\(Self.pad(p.second))"
    }

    public func format(_ time: Timestamp) -> String { format(time.millis) }

    /// An RFC 3339 text from the wire shown as `format` does; `absent` when missing or unreadable.
    public func format(rfc3339 text: String?, absent: String = "-") -> String {
        guard let text, let time = Timestamp(rfc3339: text) else { return absent }
        return format(time.millis)
    }

    /// RFC 5322 date for e-mail headers: `Sun, 29 Nov 2026 16:01:00 +0800`.
    public func rfc5322(_ millis: Int64) -> String {
        let p = parts(millis)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let sign = offsetMinutes >= 0 ? "+" : "-"
        let zone = "\(sign)\(Self.pad(abs(offsetMinutes) / 60))\(Self.pad(abs(offsetMinutes) % 60))"
        return "\(days[p.weekday]), \(p.day) \(months[p.month - 1]) \(Self.pad(p.year, 4)) "
            + "\(Self.pad(p.hour)):\(Self.pad(p.minute)):\(Self.pad(p.second)) \(zone)"
    }
}
