import Foundation
import SSLMCore
import SSLMPKI

/// Since when each TLSA record has been served by every authoritative name server of its apex:
/// `<topdir>/.sslm/tlsa-published.json`, `{"<apex>": {"<owner> <rdata>": "<RFC 3339 time>"}}`.
///
/// The planner is pure, so the time a record was first seen published cannot be "now" inside it: the
/// caller of the DNS gatherer passes each observed `DANEPublication` through `record`, which keeps the
/// earliest time a record was seen on all servers, forgets records that a successful observation found
/// missing on some server (their clock starts again when they come back), and leaves an apex whose
/// observation failed untouched. The times are those of the run's clock (`SSLM_NOW` in tests). Writes
/// atomically; a missing or unreadable file counts as empty. Not a cache of DNS answers.
public enum TLSAPublicationLog {
    /// `<topdir>/.sslm/tlsa-published.json`.
    public static func path(topdir: String) -> String { topdir + "/.sslm/tlsa-published.json" }

    /// The publications with `firstSeen` filled in from the log and what was observed at `now`; with
    /// `persist` (a run holding the writer lock) the log is updated too. A read-only command (`sslm plan`)
    /// computes the same times without storing them, so its clock starts at the next writing run. A write
    /// failure is returned as a warning (the times of this run are still used).
    public static func record(_ publications: [DANEPublication], topdir: String, now: Date, persist: Bool)
        -> (publications: [DANEPublication], warning: String?)
    {
        var log = read(topdir: topdir)
        let before = log
        var result: [DANEPublication] = []
        for var publication in publications {
            var seen = log[publication.apex] ?? [:]
            if let servers = publication.servers, !servers.isEmpty, publication.failure == nil,
                servers.allSatisfy({ $0.failure == nil })
            {
                let all = publication.servedByAll
                var updated: [String: Date] = [:]
                for key in all { updated[key] = min(seen[key] ?? now, now) }
                seen = updated
                log[publication.apex] = seen.isEmpty ? nil : seen
            }
            publication.firstSeen = seen
            result.append(publication)
        }
        guard persist, log != before else { return (result, nil) }
        do {
            try write(log, topdir: topdir)
            return (result, nil)
        } catch {
            return (result, "cannot record TLSA publication times in \(path(topdir: topdir)): \(error)")
        }
    }

    /// The log as stored (apex → record key → first seen).
    public static func read(topdir: String) -> [String: [String: Date]] {
        guard case .success(let bytes) = PosixFiles.read(path(topdir: topdir), limit: .state, followLinks: false),
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: [String: String]]
        else { return [:] }
        var log: [String: [String: Date]] = [:]
        for (apex, records) in object {
            var entries: [String: Date] = [:]
            for (key, text) in records { if let date = Timestamps.parseRFC3339(text) { entries[key] = date } }
            if !entries.isEmpty { log[apex] = entries }
        }
        return log
    }

    private static func write(_ log: [String: [String: Date]], topdir: String) throws {
        var object: [String: [String: String]] = [:]
        for (apex, records) in log { object[apex] = records.mapValues { Timestamps.rfc3339($0) } }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        _ = try ConfinedDirectory.open(topdir + "/.sslm", below: topdir, createMode: 0o700)
        try AtomicFile.write(Array(data) + [10], to: path(topdir: topdir), root: topdir)
    }
}
