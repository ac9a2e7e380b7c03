import Foundation

/// One failed ACME order of a service (an order, its challenges or its finalization failed): when, by the
/// run's clock, and the error. Kept in `.sslm/acme/failures.json` until an order of the service succeeds;
/// the planner backs off from them (`ServiceChecks.orderIsBackingOff`).
public struct OrderFailure: Sendable, Hashable, Codable {
    public var time: Date
    public var reason: String

    public init(time: Date, reason: String) {
        self.time = time
        self.reason = reason
    }
}
