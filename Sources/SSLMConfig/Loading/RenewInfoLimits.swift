import SSLMCore

/// The ranges of `[renew_info]` `target_<X>` / `rand_adj_<X>` (and of the deprecated `renew_expire_days` /
/// `renew_expire_days_spread`, which are `target_90` / `rand_adj_90`).
///
/// A target is days before expiry, so it must lie below the lifetime X it applies to: `target_90 = 200`
/// would make a 90-day certificate due the moment it is issued, and sslm would renew on every run. The
/// spread moves the target both ways, so at each configured X also `target − spread ≥ 0` (a certificate is
/// renewed before it expires, never after) and `target + spread < X`. Between points the functions are
/// interpolated, and beyond the last one proportional, so these bounds hold for every lifetime.
enum RenewInfoLimits {
    /// The exclusive upper bound of a value at lifetime X: X, or 1 day for a point at X = 0 (it applies to
    /// lifetimes below the next point).
    static func upperBound(lifetimeDays: Double) -> Double { lifetimeDays > 0 ? lifetimeDays : 1 }

    static func targetProblem(_ days: Double, lifetimeDays: Double) -> String? {
        rangeProblem(days, lifetimeDays: lifetimeDays, what: "days before expiry")
    }

    static func randomProblem(_ days: Double, lifetimeDays: Double) -> String? {
        rangeProblem(days, lifetimeDays: lifetimeDays, what: "days of spread")
    }

    private static func rangeProblem(_ days: Double, lifetimeDays: Double, what: String) -> String? {
        let upper = upperBound(lifetimeDays: lifetimeDays)
        if days >= 0 && days < upper { return nil }
        let lifetime = TableReader.text(lifetimeDays)
        let reason =
            days < 0
            ? "a negative value would renew only after the certificate expired"
            : "the certificate lifetime is \(lifetime) days; a value this large makes every run renew"
        return "out of range: expected 0 ≤ \(what) < \(TableReader.text(upper)), found \(TableReader.text(days)) "
            + "(\(reason))"
    }

    /// The combined check at lifetime X with the final functions: nil, or why the pair does not fit.
    static func combinedProblem(_ info: RenewInfo, lifetimeDays: Double) -> String? {
        guard lifetimeDays > 0 else { return nil }
        let target = info.targetDays(lifetimeDays: lifetimeDays)
        let spread = info.randomHalfWidthDays(lifetimeDays: lifetimeDays)
        let x = TableReader.text(lifetimeDays)
        let pair = "target_\(x) = \(TableReader.text(target)) ± rand_adj_\(x) = \(TableReader.text(spread))"
        if spread > target {
            return "\(pair) can fall below 0 days left: a certificate would be renewed only after it expired; "
                + "keep rand_adj_\(x) ≤ target_\(x)"
        }
        if target + spread >= lifetimeDays {
            return "\(pair) reaches the \(x)-day lifetime: every run would renew; "
                + "keep target_\(x) + rand_adj_\(x) < \(x)"
        }
        return nil
    }
}
