import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Time formats sslm reads and writes.
public enum Timestamps {
    /// Parses an RFC 3339 / ISO 8601 date-time such as `2027-01-15T12:00:00Z` or
    /// `2027-01-15T12:00:00.5+01:00`. Nil when malformed.
    public static func parseRFC3339(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }

    /// `2026-11-29T12:00:00Z` (UTC, whole seconds): the form used in plans and JSON.
    /// Formatted with `gmtime_r` (a DateFormatter per call costs ~50 µs; plans call this per service).
    public static func rfc3339(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "1970-01-01T00:00:00Z" }
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "Z"
    }

    /// ssl-mgr's db directory name: `YYYYmmdd-HH:MM:SS` in local time (e.g. `20260730-14:30:05`).
    public static func dbDirectoryName(_ date: Date, timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "-" + pad(c.hour, 2) + ":" + pad(c.minute, 2)
            + ":" + pad(c.second, 2)
    }

    /// True for names of the form `YYYYmmdd-HH:MM:SS` (what ssl-mgr's cleanup considers a db dir).
    public static func isDBDirectoryName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count == 17 else { return false }
        for (index, byte) in bytes.enumerated() {
            switch index {
            case 8: if byte != UInt8(ascii: "-") { return false }
            case 11, 14: if byte != UInt8(ascii: ":") { return false }
            default: if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { return false }
            }
        }
        return true
    }
}
