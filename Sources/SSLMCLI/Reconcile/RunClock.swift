import Foundation
import SSLMCore

/// "Now" for a run: `--now`, else `$SSLM_NOW`, else the clock. The first two exist for tests and
/// simulations (walking a certificate through renew, wait, roll and expiry in seconds).
enum RunClock {
    static func now(option: String?) throws -> Date {
        if let option { return try parse(option, origin: "--now") }
        if let env = ProcessInfo.processInfo.environment["SSLM_NOW"], !env.isEmpty {
            return try parse(env, origin: "SSLM_NOW")
        }
        return Date()
    }

    private static func parse(_ text: String, origin: String) throws -> Date {
        guard let date = Timestamps.parseRFC3339(text) else {
            throw CLIError(
                "\(origin): \"\(SafeName.printable(text))\" is not an RFC 3339 time (e.g. 2027-01-15T12:00:00Z)")
        }
        return date
    }
}
