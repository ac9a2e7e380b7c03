import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMPKI

/// One dns-01 TXT record sslm added to a zone changed by `rfc2136` or `exec`: what `.sslm/dns/challenges.<apex>.json`
/// lists (`DNSPublicationFiles`) until the batch's `clear` deleted it.
struct PlacedChallenge: Codable, Hashable, Comparable {
    var zone: String
    var owner: String
    var value: String

    static func < (lhs: PlacedChallenge, rhs: PlacedChallenge) -> Bool {
        (lhs.zone, lhs.owner, lhs.value) < (rhs.zone, rhs.owner, rhs.value)
    }

    var record: DNSUpdateRecord { .txt(owner, value) }
}

/// Where the dns-01 challenges of an apex go: each `_acme-challenge.<name>` that is a CNAME (asked at the
/// apex's primary) is published at the CNAME's target, in the zone of the longest `[[dns_primary]]` domain
/// containing it; every other one in the zone of its own name (the longest `[[dns_primary]]` or group domain
/// containing it, else the apex). Delegation is followed only when some `[[dns_primary]]` uses `rfc2136` or
/// `exec` (an include-file zone cannot take records sslm finds only at run time).
extension ApplyRun {
    /// Whether `_acme-challenge` CNAMEs are looked up at all (see the extension's documentation).
    var followsChallengeDelegation: Bool {
        config.dnsPrimaries.contains { $0.update != .include }
    }

    /// The zone a name belongs to for sslm: the longest configured domain that contains it, else `fallback`.
    func zone(of name: String, fallback: String) -> String {
        let domains =
            config.dnsPrimaries.filter { !$0.isDefault }.map(\.domain)
            + config.groups.map { $0.domain.lowercased() }
        let owning = domains.filter { name == $0 || name.hasSuffix("." + $0) }
        return owning.max { $0.count < $1.count } ?? fallback
    }

    /// `records` with their delegated owners filled in (one CNAME query per distinct name, at the apex's
    /// primary; a failed query counts as no delegation: the update or the propagation check then reports the
    /// server).
    func delegated(_ records: [ACMEChallengeRecord], apex: String, logger: Logger) async throws
        -> [ACMEChallengeRecord]
    {
        guard followsChallengeDelegation, !records.isEmpty, let primary = config.dnsPrimary(for: apex) else {
            return records
        }
        guard case .success(let addresses) = await Self.resolve(primary.server, config: config),
            let server = addresses.first
        else { return records }
        let names = Set(records.map(\.challengeName)).sorted()
        let targets = await ConcurrentMap.offPool { () -> [String: String] in
            var found: [String: String] = [:]
            for name in names {
                if case .success(let target?) = DNSQuery(timeoutSeconds: 2, retries: 1).cname(name, at: server) {
                    found[name] = target
                }
            }
            return found
        }
        return try records.map { record in
            guard let target = targets[record.challengeName] else { return record }
            let zone = zone(of: target, fallback: "")
            guard !zone.isEmpty else {
                throw SSLMError(
                    .configInvalid,
                    "\(record.challengeName) is a CNAME to \(target), but no [[dns_primary]] names a zone containing "
                        + "it: add one for that zone with update = 'rfc2136' or 'exec'")
            }
            guard updateMethod(of: zone) != .include else {
                throw SSLMError(
                    .configInvalid,
                    "\(record.challengeName) is a CNAME to \(target) in zone \(zone), whose [[dns_primary]] uses "
                        + "include files: a delegated challenge needs update = 'rfc2136' or 'exec' there")
            }
            logger.info("dns: \(record.challengeName) is delegated to \(target) (zone \(zone))")
            return ACMEChallengeRecord(domain: record.domain, value: record.value, delegatedOwner: target)
        }
    }

    /// The zone each record goes to, and whether that zone is changed through include files.
    func placed(_ records: [ACMEChallengeRecord], apex: String) -> (
        include: [ACMEChallengeRecord], sent: [PlacedChallenge]
    ) {
        var include: [ACMEChallengeRecord] = []
        var sent: [PlacedChallenge] = []
        for record in records {
            let zone = zone(of: record.ownerName, fallback: apex)
            if record.delegatedOwner == nil && updateMethod(of: zone) == .include {
                include.append(record)
            } else {
                sent.append(PlacedChallenge(zone: zone, owner: record.ownerName, value: record.value))
            }
        }
        return (include, Array(Set(sent)).sorted())
    }

    // MARK: .sslm/dns/challenges.<apex>.json

    func recordedChallenges(apex: String) throws -> [PlacedChallenge] {
        let path = DNSPublicationFiles.challengesFile(topdir: topdir, apex: apex)
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path),
            let list = try? JSONDecoder().decode([PlacedChallenge].self, from: data)
        else {
            throw SSLMError(
                .malformedInput,
                "\(display(path)) is not sslm's list of published challenges; remove it after deleting its records")
        }
        return list
    }

    func recordChallenges(_ list: [PlacedChallenge], apex: String) throws {
        let path = DNSPublicationFiles.challengesFile(topdir: topdir, apex: apex)
        if list.isEmpty {
            unlink(path)
            return
        }
        _ = try StateDirectory.ensure(topdir: topdir)
        try FileOps.makeDirectories(DNSPublicationFiles.directory(topdir: topdir), root: topdir)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let text = String(decoding: try encoder.encode(Array(Set(list)).sorted()), as: UTF8.self) + "\n"
        try AtomicFile.write(text: text, to: path, mode: AtomicFile.privateMode, root: topdir)
    }

    /// Adds (or deletes) `list` zone by zone: one change per zone.
    func sendChallenges(_ list: [PlacedChallenge], delete: Bool, logger: Logger) async throws -> [String] {
        var summaries: [String] = []
        for zone in Set(list.map(\.zone)).sorted() {
            let records = list.filter { $0.zone == zone }.map(\.record)
            let change =
                delete ? DNSZoneChange(zone: zone, deletions: records) : DNSZoneChange(zone: zone, additions: records)
            summaries.append(try await sendZoneChange(change, logger: logger))
        }
        return summaries
    }
}
