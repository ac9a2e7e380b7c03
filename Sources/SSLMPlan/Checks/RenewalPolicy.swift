import Foundation
import SSLMConfig
import SSLMCore

/// When a certificate is due for renewal: ssl-mgr 7.x `[renew_info]` — renew when the days left are at
/// most `target(L) + adj`, with L the certificate's original lifetime.
///
/// ssl-mgr drew `adj` at random on every run (twice per run, even). sslm derives it from the
/// certificate's serial number: uniform in [−w, +w] across certificates, rounded to 0.1 d, and the
/// same for the same certificate on every run — so plans are reproducible and renewals still spread.
public struct RenewalAssessment: Sendable, Hashable {
    public var lifetimeDays: Double
    public var daysLeft: Double
    public var targetDays: Double
    public var spreadDays: Double
    public var adjustmentDays: Double
    /// The moment the certificate becomes due.
    public var renewAt: Date
    public var isDue: Bool

    /// The configuration validates `[renew_info]` (0 ≤ spread ≤ target < lifetime); a `RenewInfo` built in
    /// code may not be, so every value is clamped into that shape here and nothing can overflow or trap:
    /// the target lies in [0, lifetime], the spread in [0, target], NaN counts as 0.
    public init(certificate: CertificateFacts, renewInfo: RenewInfo, now: Date) {
        let maximumDays = 4_000_000.0  // beyond any X.509 date (year 9999 is ~2.9 million days from 1970)
        lifetimeDays = ConfigLimits.clamp(certificate.lifetime, to: 0...maximumDays)
        daysLeft = ConfigLimits.clamp(
            certificate.notAfter.timeIntervalSince(now) / 86_400,
            to: -maximumDays...maximumDays)
        targetDays = ConfigLimits.clamp(renewInfo.targetDays(lifetimeDays: lifetimeDays), to: 0...lifetimeDays)
        spreadDays = ConfigLimits.clamp(renewInfo.randomHalfWidthDays(lifetimeDays: lifetimeDays), to: 0...targetDays)
        adjustmentDays = Self.adjustment(serialHex: certificate.serialHex, halfWidth: spreadDays)
        renewAt = certificate.notAfter.addingTimeInterval(-(targetDays + adjustmentDays) * 86_400)
        isDue = daysLeft - targetDays <= adjustmentDays
    }

    /// A deterministic value in [−halfWidth, +halfWidth] from the serial, rounded to 0.1.
    public static func adjustment(serialHex: String, halfWidth: Double) -> Double {
        guard halfWidth > 0, halfWidth.isFinite else { return 0 }
        let hex = ContentDigest.sha256Hex(Array(serialHex.utf8))
        let fraction = Double(UInt64(hex.prefix(13), radix: 16) ?? 0) / Double(1 << 52)
        return ((2 * fraction - 1) * halfWidth * 10).rounded() / 10
    }

    /// `curr expires 2026-12-20 (21.0 d left); renew at 30.0 d before expiry` (+ the spread when there is one).
    public var sentence: String {
        var text =
            "expires \(PlanText.day(renewAt.addingTimeInterval((targetDays + adjustmentDays) * 86_400)))"
            + " (\(PlanText.days(daysLeft)) left); renews \(PlanText.days(targetDays)) before expiry"
        if spreadDays > 0 {
            text +=
                " ± \(PlanText.days(spreadDays)) (\(PlanText.days(targetDays + adjustmentDays)) for this certificate)"
        }
        return text
    }
}

/// Small text helpers shared by reasons.
enum PlanText {
    static func day(_ date: Date) -> String { String(Timestamps.rfc3339(date).prefix(10)) }

    static func days(_ value: Double) -> String {
        // Whole tenths as integers: the same text as `%.1f` of the rounded value (a note per service; the
        // C formatter was 1.5 % of a 10,000-service plan).
        let scaled = (value * 10).rounded()
        guard scaled.magnitude < 1e15, let tenths = Int(exactly: scaled) else {
            let rounded = scaled / 10
            return String(format: "%.1f d", rounded == 0 ? 0 : rounded)
        }
        let magnitude = tenths.magnitude
        return (tenths < 0 ? "-" : "") + "\(magnitude / 10).\(magnitude % 10) d"
    }

    static func minutes(_ seconds: Double) -> String {
        let minutes = ConfigLimits.integer((seconds / 60).rounded(.down)) ?? 0
        if minutes < 120 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours) h \(minutes % 60) min" }
        return "\(hours / 24) d \(hours % 24) h"
    }

    static func list(_ items: [String]) -> String { items.isEmpty ? "(none)" : items.joined(separator: ", ") }
}
