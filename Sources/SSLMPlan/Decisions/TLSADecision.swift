import SSLMConfig
import SSLMCore

/// What changes about one apex's TLSA file in this run: the file (`tlsa.<apex>`), its copies in the DNS
/// include directories and its production copy; with the note when the DNS facts were not available.
struct TLSADecision {
    let apex: String
    var note: Note?
    /// Why the file is written; nil when it stays.
    var write: Reason?
    /// Whether a service's curr changes (the file keeps the new curr's records, and next's).
    var rolling = false
    /// The DANE services whose actions the write follows (a roll, or a new next).
    var changedServices: [ServiceAddress] = []
    /// Why the copies in `[dns] tlsa_dirs` are updated, and the directories as shown.
    var publish: (reason: Reason, directories: [String])?
    /// Why production's copy is updated.
    var production: Reason?
    /// Why the copies in `[dns] tlsa_dirs` are not updated although they differ (an endpoint still presents
    /// a key whose records the update would withdraw).
    var held: Note?

    /// The retired services the write follows (`retire_service`; a withdrawal, see `withdraw`).
    var retiredServices: [ServiceAddress] = []

    /// Whether `[dns] tlsa_dirs` names directories (without them, the written file is what DNS reads).
    var hasCopyDirectories = false

    /// Whether the records reach DNS in this run (a refresh follows).
    var published: Bool { publish != nil || (write != nil && !hasCopyDirectories) }

    /// nil when no service of the apex has DANE.
    static func decide(
        apex: String, services: [ServiceAddress], decisions: [ServiceAddress: ServiceDecision],
        context: PlanningContext
    ) -> TLSADecision? {
        let daneServices = services.filter { context.config.service($0)?.dane.isEmpty == false }
        guard !daneServices.isEmpty else { return nil }
        var decision = TLSADecision(apex: apex)
        decision.note = factsNote(apex: apex, context: context)
        let group = context.observation.group(apex)
        for address in daneServices {
            guard let service = decisions[address], service.tlsaInputId != nil else { continue }
            decision.changedServices.append(address)
            if service.changesCurr { decision.rolling = true }
        }
        if !decision.changedServices.isEmpty {
            decision.write = Reason(
                .tlsaChanged,
                decision.rolling
                    ? "curr changes in this run: tlsa.\(apex) keeps the records of the new curr (and of next, if any)"
                    : "a new next in this run: tlsa.\(apex) publishes curr and next records")
        } else if let group, group.tlsaExpected != nil, group.tlsaExpected != group.tlsaFile {
            decision.write = Reason(
                .tlsaDrift,
                group.tlsaFile == nil
                    ? "certs/\(apex)/tlsa.\(apex) is missing"
                    : "certs/\(apex)/tlsa.\(apex) does not match the records of the curr and next certificates")
        }
        decision.decideCopies(group: group, context: context)
        if decision.publish != nil, let hold = oldKeyIsStillServed(apex: apex, decisions: decisions, context: context) {
            decision.publish = nil
            decision.held = Note(subject: apex, reason: hold)
        }
        return decision
    }

    /// The withdrawal of every record of `tlsa.<apex>` when the services that had them are retired and no
    /// configured service of the apex has DANE: the file is emptied (never deleted, a zone may include it),
    /// then copied or sent and refreshed as any TLSA change.
    static func withdraw(apex: String, retired: [ServiceAddress], context: PlanningContext) -> TLSADecision {
        var decision = TLSADecision(apex: apex)
        decision.retiredServices = retired
        decision.write = Reason(
            .orphaned,
            "no configured service of \(apex) has DANE any more: tlsa.\(apex) is emptied, withdrawing the records "
                + "of \(PlanText.list(retired.map(\.description)))")
        decision.decideCopies(group: context.observation.group(apex), context: context)
        return decision
    }

    /// The note when the apex's DNS facts are missing (TLSA records then keep the owners already published).
    private static func factsNote(apex: String, context: PlanningContext) -> Note? {
        if let note = context.observation.group(apex)?.tlsaNote {
            return Note(subject: apex, reason: Reason(.dnsFactsUnavailable, note))
        }
        guard let failure = context.observation.dnsFacts(apex)?.failure else { return nil }
        return Note(
            subject: apex,
            reason: Reason(
                .dnsFactsUnavailable,
                "MX lookup for \(apex) failed (\(failure)); TLSA records for MX hosts keep the owners already published (none yet: the apex only)"
            ))
    }

    /// The copies in `[dns] tlsa_dirs` and in production: with a new file, or when they differ from it.
    private mutating func decideCopies(group: GroupState?, context: PlanningContext) {
        // `--test` (staging keys) never publishes TLSA records: not to tlsa_dirs, and not by UPDATE either.
        if let sentBy = ZoneUpdateMethod.phrase(apex, config: context.config), !context.request.acmeStaging {
            decideSending(sentBy, group: group)
        } else {
            decideIncludeCopies(group: group, context: context)
        }
        decideProduction(group: group, context: context)
    }

    /// A zone sslm changes itself (rfc2136, exec): `publish_tlsa` sends what differs between the file and
    /// the copy of what was sent last (`.sslm/dns/tlsa-sent.<apex>`), with a new file or when they differ.
    private mutating func decideSending(_ sentBy: String, group: GroupState?) {
        hasCopyDirectories = true
        let sent = group?.tlsaCopies[DNSPublicationFiles.relativeDirectory] ?? nil
        if var reason = write {
            reason.message += "; the changed records go out \(sentBy)"
            publish = (reason, [])
        } else if let file = group?.tlsaFile, sent != file {
            publish = (
                Reason(
                    .tlsaCopyDrift,
                    "the zone does not have every record of certs/\(apex)/tlsa.\(apex) yet: sending the difference "
                        + sentBy),
                []
            )
        }
    }

    private mutating func decideIncludeCopies(group: GroupState?, context: PlanningContext) {
        let dirs = context.config.dns.tlsaDirs
        hasCopyDirectories = !dirs.isEmpty
        if !dirs.isEmpty {
            let stale = dirs.filter { (group?.tlsaCopies[$0] ?? nil) != group?.tlsaFile }
            if write != nil || (!stale.isEmpty && group?.tlsaFile != nil) {
                let reason =
                    write
                    ?? Reason(
                        .tlsaCopyDrift,
                        "\(context.display(stale[0]))/tlsa.\(apex) differs from certs/\(apex)/tlsa.\(apex)")
                publish = (reason, dirs.map(context.display))
            }
        }
    }

    private mutating func decideProduction(group: GroupState?, context: PlanningContext) {
        let prodDigest = context.observation.production.tlsaFiles[apex] ?? nil
        guard write != nil || (group?.tlsaFile != nil && prodDigest != group?.tlsaFile) else { return }
        let prodDir = context.display(context.config.globals.prodCertDir)
        production =
            write
            ?? Reason(
                .productionDrift,
                prodDigest == nil
                    ? "\(prodDir)/\(apex)/tlsa.\(apex) is missing"
                    : "\(prodDir)/\(apex)/tlsa.\(apex) differs from certs/\(apex)/tlsa.\(apex)")
    }
}
