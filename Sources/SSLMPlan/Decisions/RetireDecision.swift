import SSLMConfig
import SSLMCore

/// What happens in this run to one `certs/` directory that left the config (`OrphanState`): by default a
/// note saying what `--retire` would do; with `sslm apply --retire` (or `retire_orphans = true`) its
/// retirement (`retire_service`), and the withdrawal of the apex's TLSA records when no configured DANE
/// service keeps the file (`TLSADecision.withdraw`). Copies on remote servers are never removed: the note
/// and the reason say so.
struct RetireDecision {
    let orphan: OrphanState
    /// The `retire_service` to emit; nil when the orphan is only noted.
    var retire: (production: Bool, revoke: Bool, reason: Reason)?
    /// The orphan note (without `--retire`), or why `--revoke` does not revoke this one.
    var notes: [Note] = []

    var address: ServiceAddress { orphan.address }

    /// One decision per orphan in scope: every orphan without targets, else those of the targets' groups.
    static func decide(context: PlanningContext) -> [RetireDecision] {
        let orphans = context.observation.orphans ?? []
        let groups = context.request.targets.map { Set($0.map(\.group)) }
        let retiring = context.request.retire || context.config.globals.retireOrphans
        return orphans.filter { groups?.contains($0.address.group) ?? true }.map { orphan in
            var decision = RetireDecision(orphan: orphan)
            let what = whatRetiringDoes(orphan, context: context)
            if retiring {
                var revoke = false
                var effects = what
                if context.request.revokeRetired {
                    switch revocation(of: orphan, context: context) {
                    case .revoke(let ca):
                        revoke = true
                        effects.insert("curr revoked at \(ca) first", at: 0)
                    case .notRevoked(let why):
                        decision.notes.append(
                            Note(subject: orphan.address.description, reason: Reason(.orphaned, "not revoked: " + why)))
                    }
                }
                decision.retire = (
                    orphan.production, revoke,
                    Reason(.orphaned, "\(describe(orphan)): retiring it (\(effects.joined(separator: "; ")))")
                )
            } else {
                decision.notes.append(
                    Note(
                        subject: orphan.address.description,
                        reason: Reason(
                            .orphaned,
                            "\(describe(orphan)): left alone; `sslm apply --retire` would retire it ("
                                + what.joined(separator: "; ") + ")")))
            }
            return decision
        }
    }

    private static func describe(_ orphan: OrphanState) -> String {
        let address = orphan.address
        return orphan.groupRemoved
            ? "certs/\(address.group)/\(address.service): group \(address.group) is no longer in the config"
            : "certs/\(address.group)/\(address.service) is no longer in the config"
    }

    /// The effects of retiring `orphan`, as listed in its note or reason.
    private static func whatRetiringDoes(_ orphan: OrphanState, context: PlanningContext) -> [String] {
        let address = orphan.address
        var effects: [String] = []
        if orphan.production {
            let prod = context.display(context.config.globals.prodCertDir)
            effects.append("\(prod)/\(address.group)/\(address.service) removed")
        }
        if context.observation.group(address.group)?.tlsaFile != nil,
            !context.config.services.values.contains(where: { $0.address.group == address.group && !$0.dane.isEmpty })
        {
            effects.append("the records of tlsa.\(address.group) withdrawn: no configured service of it has DANE")
        }
        effects.append("keys and certificates archived under certs/.retired/\(address.group)/\(address.service)/")
        let remote = context.config.servers.filter { !$0.skipProdCopy && $0.servers.contains { !context.isLocal($0) } }
        if !remote.isEmpty {
            effects.append("copies on the servers of [\(remote.map(\.name).joined(separator: "], ["))] are not removed")
        }
        return effects
    }

    /// Whether `--revoke` revokes an orphan's curr: at which CA, or why not (a sentence for its note).
    enum Revocation: Equatable {
        case revoke(ca: String)
        case notRevoked(String)
    }

    /// Whether curr can be revoked at the ACME CA that issued it (by its ledger record), and why not.
    static func revocation(of orphan: OrphanState, context: PlanningContext) -> Revocation {
        guard let curr = orphan.curr else { return .notRevoked("no readable curr certificate") }
        let record = context.observation.record(of: curr)
        if let revoked = record?.revoked {
            return .notRevoked("curr was already revoked (\(PlanText.day(revoked.at)), \(revoked.reason))")
        }
        if let record, record.directory != nil {
            guard context.config.certificateAuthorities[record.ca]?.acme != nil else {
                return .notRevoked("CA \(record.ca), which issued curr, is no longer an ACME CA of ca-info.conf")
            }
            return .revoke(ca: record.ca)
        }
        if orphan.currIssuedLocally || record != nil {
            return .notRevoked("curr was issued by a local CA (or is self-signed): revocation does not apply")
        }
        return .notRevoked(
            "sslm has no record of the ACME CA that issued curr (it was not issued by this sslm): revoke it with the CA's tools"
        )
    }
}
