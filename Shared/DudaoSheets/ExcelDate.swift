import Foundation

/// Excel's date serials (the 1900 date system): days since 1899-12-30, the fraction being the
/// time of day. A date typed into a cell is stored so, whatever format it shows in.
public enum ExcelDate {
    /// The serial as wall-clock parts: (year, month, day, hour, minute, second).
    public static func parts(serial: Double) -> (Int, Int, Int, Int, Int, Int)? {
        guard serial.isFinite, serial >= 1, serial < 2_958_466 else { return nil }
        var days = Int(serial.rounded(.down))
        var seconds = Int(((serial - Double(days)) * 86_400).rounded())
        if seconds >= 86_400 {
            days += 1
            seconds -= 86_400
        }
        // Days from 1970-01-01 (serial 25569), then the civil calendar (H. Hinnant's algorithm).
        let z = days - 25_569 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    /// `2024-08-31` for a serial.
    public static func date(serial: Double) -> String? {
        guard let (y, m, d, _, _, _) = parts(serial: serial) else { return nil }
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// `2026-11-29T08:00:00+08:00`: the serial read as wall-clock time at `offsetHours` (the
    /// county's UTC+8).
    public static func timestamp(serial: Double, offsetHours: Int = 8) -> String? {
        guard let (y, mo, d, h, mi, s) = parts(serial: serial) else { return nil }
        let sign = offsetHours < 0 ? "-" : "+"
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s) + sign + String(format: "%02d:00", abs(offsetHours))
    }
}
