import Foundation
import SSLMConfig
import SSLMCore

extension ServiceChecks {
    /// How long after `failures` consecutive failed orders the next one waits: 1 h, doubling to 32 h
    /// (cert-manager's backoff).
    static func backoffSeconds(failures: Int) -> Double {
        Double(1 << min(max(failures, 1) - 1, 5)) * 3_600
    }

    /// How close to curr's expiry a backoff never reaches: from then on every run retries.
    static let backoffExpiryMarginSeconds: Double = 7 * 86_400

    /// `orderIsBackingOff`: the service's last ACME orders failed (`Observation.orderFailures`) and the
    /// backoff after them has not run out. Never with `--force` or `--replace`, and never past the point
    /// where curr's expiry is at risk (7 days before it; then every run retries).
    static func orderIsBackingOff(_ service: ServiceConfig, state: ServiceState, context: PlanningContext)
        -> Reason?
    {
        let request = context.request
        guard !request.force, !request.replaceNow,
            let failures = context.observation.orderFailures?[service.address.description],
            let last = failures.max(by: { $0.time < $1.time })
        else { return nil }
        var retryAt = last.time.addingTimeInterval(backoffSeconds(failures: failures.count))
        if let end = state.dbDir(state.curr)?.certificate?.notAfter {
            retryAt = min(retryAt, end.addingTimeInterval(-backoffExpiryMarginSeconds))
        }
        guard request.now < retryAt else { return nil }
        return Reason(
            .orderBackoff,
            "retry after \(Timestamps.rfc3339(retryAt)): \(failures.count) failed order(s), the last at "
                + "\(Timestamps.rfc3339(last.time)): \(last.reason) (--force or --replace retries now)")
    }
}
