import Foundation
import SSLMConfig
import SSLMCore

/// The checks that decide whether the next certificate of a DANE service may become curr: its TLSA
/// records must be **observed** on the primary and on every authoritative name server of the apex, and
/// have been served there for at least `min_roll_mins` and at least 2 × their TTL. Until then the roll
/// waits, and the reason says what it waits for. Pure functions of the observation and the time.
///
/// Not used for services without DANE, for a first certificate (there is no curr to roll from) or for a
/// forced roll.
enum DANERollChecks {
    /// `tlsaRecordsAreUnchanged`: next uses curr's key and every `dane_tls` entry hashes the public key
    /// (selector 1), so the published records already match next: nothing to wait for.
    static func tlsaRecordsAreUnchanged(service: ServiceConfig, currSPKI: String?, nextSPKI: String?) -> Bool {
        guard !service.dane.isEmpty, service.dane.allSatisfy({ $0.selector == 1 }), let currSPKI, let nextSPKI
        else { return false }
        return currSPKI == nextSPKI
    }

    /// The wait a DANE service's next needs once its records are served everywhere: the larger of
    /// `min_roll_mins` and 2 × the largest TTL of the records (seconds).
    static func requiredPublication(records: [DANERecord], minRollMinutes: Int) -> (seconds: Double, ttlPart: Double) {
        let ttl = Double(records.compactMap(\.ttl).max() ?? 0)
        return (max(Double(minRollMinutes) * 60, 2 * ttl), 2 * ttl)
    }

    /// Whether next's records have been published long enough: nil = yes (the roll may go ahead; `ready`
    /// then holds the sentence), else the reason the roll waits.
    static func nextRecordsArePublished(
        apex: String, service: String, nextName: String, publication: DANEPublication?, now: Date,
        minRollMinutes: Int
    ) -> (waiting: Reason?, ready: String?) {
        func waiting(_ text: String) -> (Reason?, String?) {
            (Reason(.waitingForTLSA, "waiting: " + text), nil)
        }
        guard let publication, let records = publication.records(service: service, slot: "next"), !records.isEmpty
        else {
            return waiting(
                "the TLSA records of next (db/\(nextName)) are not known (is next/cert.pem readable?); "
                    + "sslm never rolls a DANE service before its records are published")
        }
        guard let servers = publication.servers, !servers.isEmpty else {
            let why = publication.failure ?? "the name servers were not asked"
            return waiting(
                "DNS of \(apex) could not be observed (\(why)); the roll waits until the TLSA records "
                    + "of next are seen on every name server (sslm never rolls a DANE service blind)")
        }
        if let failure = publication.failure {
            return waiting("DNS of \(apex) could not be observed (\(failure)); the roll waits")
        }
        let wanted = records.map(\.key)
        let problems = serverProblems(servers, wanted: wanted, apex: apex)
        if !problems.isEmpty {
            return waiting(
                problems.joined(separator: "; ") + "; next (db/\(nextName)) rolls once every name server "
                    + "of \(apex) serves its TLSA records")
        }
        let since = wanted.compactMap { publication.firstSeen[$0] }.max() ?? now
        let (required, ttlPart) = requiredPublication(records: records, minRollMinutes: minRollMinutes)
        let age = now.timeIntervalSince(since)
        let rule = "min_roll_mins \(minRollMinutes), 2 × TTL \(PlanText.minutes(ttlPart))"
        if age < required {
            let at = since.addingTimeInterval(required)
            return waiting(
                "the TLSA records of next (db/\(nextName)) are served by all \(servers.count) name servers "
                    + "of \(apex) since \(Timestamps.rfc3339(since)) (\(PlanText.minutes(max(0, age)))); rolls at "
                    + "\(Timestamps.rfc3339(at)) (in \(PlanText.minutes(at.timeIntervalSince(now))); \(rule))")
        }
        return (
            nil,
            "the TLSA records of next (db/\(nextName)) have been served by all \(servers.count) name servers "
                + "of \(apex) for \(PlanText.minutes(age)) (\(rule)): next becomes curr"
        )
    }

    /// Per name server that does not serve every wanted record (or does not answer), a sentence.
    private static func serverProblems(_ servers: [ServedTLSA], wanted: [String], apex: String) -> [String] {
        let primarySerial = servers.first { $0.isPrimary }?.serial
        var problems: [String] = []
        for server in servers {
            if let failure = server.failure {
                problems.append("\(server.server) does not answer for \(apex) (\(failure))")
                continue
            }
            let served = Set(server.records)
            guard let missing = wanted.first(where: { !served.contains($0) }) else { continue }
            if server.isPrimary {
                problems.append(
                    "the primary \(server.server) does not serve the next key's TLSA record \(missing) "
                        + "(is tlsa.\(apex) $INCLUDEd in the zone, and was DNS refreshed?)")
            } else if let serial = server.serial, let primarySerial, serial != primarySerial {
                problems.append("\(server.server) still serves serial \(serial) (the primary serves \(primarySerial))")
            } else {
                problems.append(
                    "\(server.server) serves serial \(server.serial.map(String.init) ?? "?") without "
                        + "the next key's TLSA record \(missing)")
            }
        }
        return problems
    }
}
