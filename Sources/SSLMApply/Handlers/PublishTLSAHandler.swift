import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDNS
import SSLMDeploy
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `publish_tlsa`: an apex's TLSA file copied into each `[dns] tlsa_dirs` (from the config; the payload's
/// directories describe them), or for a zone with `update = 'rfc2136'` / `'exec'` its changed records sent.
struct PublishTLSAHandler: ActionHandler {
    static let kind = ActionKind.publishTLSA

    static func payload(of payload: ActionPayload) throws -> String {
        guard case .publishTLSA(let apex, _) = payload else { throw mismatch(payload) }
        return apex
    }

    func perform(_ apex: String, of action: Action, in context: ActionContext) async throws -> String? {
        let apex = try context.run.checked(apex: apex)
        let probed = try await context.run.probeWithdrawal(apex: apex, after: action, logger: context.logger)
        if let probed, !probed.held.isEmpty {
            let others = probed.probed.isEmpty ? "" : " (and: " + probed.probed.joined(separator: "; ") + ")"
            let detail =
                "held, nothing published: the zone keeps the old key's records of tlsa.\(apex): "
                + probed.held.joined(separator: "; ") + others
                + "; the next run probes again and withdraws them once every endpoint presents the new key"
            context.logger.warning("\(detail)")
            return detail
        }
        let published =
            context.run.updateMethod(of: apex) != .include
            ? try await context.run.sendTLSA(apex: apex, logger: context.logger)
            : try context.run.publishTLSA(apex: apex)
        guard let probed else { return published }
        let found =
            probed.probed.isEmpty
            ? "no endpoint to probe (no withdrawn record has a _port._tcp owner)"
            : probed.probed.joined(separator: "; ")
        return (published.map { $0 + "; " } ?? "") + "probed after the restart: " + found
    }
}

extension ApplyRun {
    /// The apply-time probe (`TLSAWithdrawalGate`) of a `publish_tlsa` that follows a `restart_server` of the
    /// plan and withdraws records from the zone (its `[dns] tlsa_dirs` copies, or the copy of what was sent);
    /// nil when there is nothing to probe: no restart before it, nothing withdrawn, or DNS was not asked for
    /// the plan (as at plan time).
    fileprivate func probeWithdrawal(apex: String, after action: Action, logger: Logger) async throws
        -> TLSAWithdrawalGate.Verdict?
    {
        let restarts = Set(plan?.actions.filter { $0.kind == .restartServer }.map(\.id) ?? [])
        guard action.dependsOn.contains(where: restarts.contains), !options.dnsFacts.isEmpty else { return nil }
        let withdrawn = try withdrawnTLSARecords(apex: apex)
        guard !withdrawn.isEmpty else { return nil }
        logger.info("probing the DANE endpoints of \(apex) before withdrawing \(withdrawn.count) TLSA record(s)")
        return await TLSAWithdrawalGate.probe(
            apex: apex, withdrawn: withdrawn, config: config, probe: options.tlsProbe)
    }

    /// The records the zone has (the `[dns] tlsa_dirs` copies, or `.sslm/dns/tlsa-sent.<apex>` for a zone
    /// sslm changes itself) that `certs/<apex>/tlsa.<apex>` no longer has.
    fileprivate func withdrawnTLSARecords(apex: String) throws -> [DNSUpdateRecord] {
        let source = CertsLayout.tlsaFile(topdir: topdir, apex: apex)
        guard let text = try? String(contentsOfFile: source, encoding: .utf8) else {
            throw SSLMError(.ioFailure, "\(display(source)) does not exist: nothing to publish")
        }
        let wanted = Self.tlsaRecords(in: text, defaultTTL: 300)
        let copies =
            updateMethod(of: apex) != .include
            ? [DNSPublicationFiles.tlsaSentFile(topdir: topdir, apex: apex)]
            : config.dns.tlsaDirs.map {
                ($0.hasPrefix("/") ? $0 : topdir + "/" + $0) + "/" + CertsLayout.tlsaFileName(apex: apex)
            }
        var withdrawn: [DNSUpdateRecord] = []
        for copy in copies {
            let published = Self.tlsaRecords(
                in: (try? String(contentsOfFile: copy, encoding: .utf8)) ?? "", defaultTTL: 300)
            for record in published
            where !wanted.contains(where: { $0.sameRecord(record) })
                && !withdrawn.contains(where: { $0.sameRecord(record) })
            {
                withdrawn.append(record)
            }
        }
        return withdrawn
    }

    /// Copies `certs/<apex>/tlsa.<apex>` into each `[dns] tlsa_dirs` directory (from the config), creating
    /// them (0750) when needed; each copy is atomic.
    fileprivate func publishTLSA(apex: String) throws -> String? {
        let apex = try checked(apex: apex)
        let source = CertsLayout.tlsaFile(topdir: topdir, apex: apex)
        guard FileOps.kind(source) == .file else {
            throw SSLMError(.ioFailure, "\(source) does not exist: nothing to publish")
        }
        // Paths come from the config (the plan's `directories` only describe them).
        let directories = config.dns.tlsaDirs
        guard !directories.isEmpty else {
            throw SSLMError(.configInvalid, "[dns] tlsa_dirs is empty: nowhere to publish tlsa.\(apex)")
        }
        for directory in directories {
            let absolute = directory.hasPrefix("/") ? directory : topdir + "/" + directory
            try ProductionSync.makeDirectories(absolute, root: absolute)
            try ProductionSync.copyFile(
                from: source, to: absolute + "/" + CertsLayout.tlsaFileName(apex: apex), root: absolute)
        }
        return "copied to \(directories.joined(separator: ", "))"
    }

    /// The difference between `certs/<apex>/tlsa.<apex>` and `.sslm/dns/tlsa-sent.<apex>` (what the zone got
    /// last time): the new records added and the dropped ones deleted by value, one change per zone (records
    /// sslm does not manage, even at the same owner, are never touched); then the file becomes the sent copy.
    fileprivate func sendTLSA(apex: String, logger: Logger) async throws -> String? {
        let apex = try checked(apex: apex)
        let source = CertsLayout.tlsaFile(topdir: topdir, apex: apex)
        guard let text = try? String(contentsOfFile: source, encoding: .utf8) else {
            throw SSLMError(.ioFailure, "\(display(source)) does not exist: nothing to publish")
        }
        let sentPath = DNSPublicationFiles.tlsaSentFile(topdir: topdir, apex: apex)
        let sentText = (try? String(contentsOfFile: sentPath, encoding: .utf8)) ?? ""
        let ttl = UInt32(clamping: config.services.values.first { $0.address.group == apex }?.daneTTL ?? 300)
        let wanted = Set(Self.tlsaRecords(in: text, defaultTTL: ttl))
        let sent = Set(Self.tlsaRecords(in: sentText, defaultTTL: ttl))
        let additions = wanted.filter { record in !sent.contains { $0.sameRecord(record) } }
        let deletions = sent.filter { record in !wanted.contains { $0.sameRecord(record) } }
        var summaries: [String] = []
        for zone in Set((additions.union(deletions)).map { self.zone(of: $0.owner, fallback: apex) }).sorted() {
            let change = DNSZoneChange(
                zone: zone, deletions: deletions.filter { self.zone(of: $0.owner, fallback: apex) == zone }.sorted(),
                additions: additions.filter { self.zone(of: $0.owner, fallback: apex) == zone }.sorted())
            summaries.append(try await sendZoneChange(change, logger: logger))
        }
        _ = try StateDirectory.ensure(topdir: topdir)
        try FileOps.makeDirectories(DNSPublicationFiles.directory(topdir: topdir), root: topdir)
        try AtomicFile.write(text: text, to: sentPath, mode: AtomicFile.publicMode, root: topdir)
        return summaries.isEmpty ? "the zone already has these records" : summaries.joined(separator: "; ")
    }

    /// The TLSA records of a TLSA zone-file text (`owner [ttl] IN TLSA u s m hex`, possibly in parentheses
    /// over several lines); lines that are not TLSA records are skipped.
    static func tlsaRecords(in text: String, defaultTTL: UInt32) -> [DNSUpdateRecord] {
        TLSAFileBuilder.normalisedRecords(of: text).compactMap { line in
            let fields = line.split(separator: " ").filter { $0 != "(" && $0 != ")" }.map {
                $0.replacingOccurrences(of: "(", with: "").replacingOccurrences(of: ")", with: "")
            }.filter { !$0.isEmpty }
            guard let type = fields.firstIndex(of: "TLSA"), fields.count >= type + 5, let owner = fields.first,
                let usage = Int(fields[type + 1]), let selector = Int(fields[type + 2]),
                let matching = Int(fields[type + 3])
            else { return nil }
            let hex = fields[(type + 4)...].joined()
            guard hex.allSatisfy(\.isHexDigit) else { return nil }
            let ttl = fields.count > 1 ? UInt32(fields[1]) ?? defaultTTL : defaultTTL
            return .tlsa(
                owner, DNSTLSARecord(usage: usage, selector: selector, matchingType: matching, dataHex: hex), ttl: ttl)
        }
    }
}

extension DNSUpdateRecord {
    /// Same owner and rdata (the TTL does not count).
    func sameRecord(_ other: DNSUpdateRecord) -> Bool { owner == other.owner && content == other.content }
}
