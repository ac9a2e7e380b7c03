import Foundation
import SSLMCore
import SSLMPKI

/// `<topdir>/.sslm/acme/failures.json`: the failed ACME orders of each service since its last successful
/// one, `{"<group>/<service>": [{"time": …, "reason": …}]}` (times of the run's clock, so `SSLM_NOW` works).
///
/// Written by the ACME handlers of `apply` (a failed `acme_order`, `answer_challenges` or `finalize_order`
/// adds one; a successful `finalize_order` clears the service), under the writer lock and serialised
/// within the process. Read by the observer (`Observation.orderFailures`). A missing or unreadable file
/// counts as empty. At most the last 16 failures of a service are kept.
public enum OrderFailureLog {
    public static func path(topdir: String) -> String { topdir + "/.sslm/acme/failures.json" }

    private static let lock = NSLock()

    public static func read(topdir: String) -> [String: [OrderFailure]] {
        guard case .success(let bytes) = PosixFiles.read(path(topdir: topdir), limit: .state, followLinks: false)
        else { return [:] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return (try? decoder.decode([String: [OrderFailure]].self, from: Data(bytes))) ?? [:]
    }

    /// Adds a failure of `service`.
    public static func record(_ failure: OrderFailure, service: String, topdir: String) throws {
        try change(topdir: topdir) { log in
            log[service, default: []].append(failure)
            log[service] = Array(log[service, default: []].suffix(16))
        }
    }

    /// Forgets the failures of `service` (an order of it succeeded).
    public static func clear(service: String, topdir: String) throws {
        guard read(topdir: topdir)[service] != nil else { return }
        try change(topdir: topdir) { $0[service] = nil }
    }

    private static func change(topdir: String, _ body: (inout [String: [OrderFailure]]) -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        var log = read(topdir: topdir)
        body(&log)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(log)
        _ = try ConfinedDirectory.open(topdir + "/.sslm/acme", below: topdir, createMode: 0o700)
        try AtomicFile.write(Array(data) + [10], to: path(topdir: topdir), mode: 0o600, root: topdir)
    }
}
