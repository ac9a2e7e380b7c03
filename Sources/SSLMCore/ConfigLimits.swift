/// The allowed ranges of sslm's numeric settings: the single definition that the config loader validates
/// against, the command line checks its options against, and the code that does arithmetic on the values
/// clamps to (so a value that bypassed validation, e.g. a `Config` built in a test, still cannot trap).
///
/// Each bound keeps every derived quantity (seconds, dates, `Int` conversions) far from overflow.
/// Not a policy of what is sensible: only of what sslm can compute with and what the formats can carry.
public enum ConfigLimits {
    /// `sign_end_days`: 1 … 36 500 days (100 years). A certificate's not-after stays below the year 9999
    /// that X.509 GeneralizedTime can encode, for any start date this century and the next.
    public static let signEndDays: ClosedRange<Int> = 1...36_500

    /// `dane_tls_ttl`: RFC 2181 §8 — a TTL is 0 … 2³¹ − 1 seconds.
    public static let ttlSeconds: ClosedRange<Int> = 0...2_147_483_647

    /// `min_roll_mins` and `--min-roll-mins`: 0 … 525 600 minutes (365 days; longer than any certificate
    /// sslm would wait to roll).
    public static let minRollMinutes: ClosedRange<Int> = 0...525_600

    /// `dane_roll_stuck_hours`: 1 … 8 760 hours (a year).
    public static let daneRollStuckHours: ClosedRange<Int> = 1...8_760

    /// `dane_roll_deadline_days`: 0 (never) … 365 days.
    public static let daneRollDeadlineDays: ClosedRange<Int> = 0...365

    /// `clean_keep`: old data sets kept per service.
    public static let cleanKeep: ClosedRange<Int> = 1...10_000

    /// `dns_check_delay`: 0 … 3 600 seconds (ssl-mgr's example used 240).
    public static let dnsCheckDelaySeconds: ClosedRange<Int> = 0...3_600

    /// `restart_timeout`: 1 … 86 400 seconds (one day).
    public static let restartTimeoutSeconds: ClosedRange<Int> = 1...86_400

    /// Lifetimes `X` of `target_<X>` / `rand_adj_<X>`: 0 … 36 500 days, the longest certificate sslm signs.
    public static let renewLifetimeDays: ClosedRange<Double> = 0...36_500

    /// Clamps `value` into `range`; NaN becomes the lower bound.
    public static func clamp(_ value: Double, to range: ClosedRange<Double>) -> Double {
        guard !value.isNaN else { return range.lowerBound }
        return min(max(value, range.lowerBound), range.upperBound)
    }

    /// `value` as an `Int` when it is finite, else nil; values beyond ±2⁶² are clamped (never traps).
    public static func integer(_ value: Double) -> Int? {
        guard value.isFinite else { return nil }
        let limit = Double(1 << 62)
        return Int(min(max(value, -limit), limit))
    }
}
