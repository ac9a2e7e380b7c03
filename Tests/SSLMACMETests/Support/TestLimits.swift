@testable import SSLMACME

extension ACMELimits {
    /// The limits of an in-process client in a test: the defaults, with a request timeout long enough
    /// that a test waiting its turn on a busy machine is not mistaken for a slow server. The test
    /// process shares two cooperative threads with tests that block them (processes run synchronously),
    /// so a 30 s request timeout fired in CI while the client waited to be scheduled, not for the server.
    static func forTests(pollTimeout: Double = ACMELimits().pollTimeout) -> ACMELimits {
        ACMELimits(requestTimeout: 600, pollTimeout: pollTimeout)
    }
}
