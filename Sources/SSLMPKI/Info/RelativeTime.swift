import Foundation

/// Date and duration text used by `sslm info`, `sslm verify` and status output (ssl-mgr's forms):
/// `2027-01-15 12:00:00 UTC` and `  89d 23:59:59` (days right-aligned in 4 columns).
public enum RelativeTime {
    public static func utc(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0,
            c.minute ?? 0, c.second ?? 0)
    }

    /// `<D>d HH:MM:SS` of the absolute value of `seconds` (whole seconds, truncated).
    public static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(abs(seconds).rounded(.down))
        let days = total / 86_400
        let rest = total % 86_400
        return String(format: "%4dd %02d:%02d:%02d", days, rest / 3600, (rest % 3600) / 60, rest % 60)
    }
}
