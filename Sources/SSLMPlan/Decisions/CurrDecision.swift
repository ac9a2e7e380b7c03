import SSLMConfig
import SSLMCore

/// What the planner found about curr: why it is unusable (a new certificate replaces it), and the repair
/// of its derived files and key modes when it is usable but damaged.
struct CurrDecision {
    /// curr's db directory, when the link points to one.
    var directory: DBDirState?
    /// Why curr is unusable; nil when it is usable (or there is no directory to judge).
    var problem: Reason?
    /// Where a damaged chain can be rebuilt from (see `SignerFacts.chainSource`).
    var chainSource: String?
    /// The repair the set needs, planned unless the run is `--phase roll`.
    var repair: ServiceChecks.Repair?
    /// Set instead of a planned repair under `--phase roll`.
    var skippedRepair: Note?

    /// The checks that make curr unusable, in order; the first that fires gives the reason.
    static func unusableReason(_ state: ServiceState, directory: DBDirState?, chainCanBeRebuilt: Bool) -> Reason? {
        let checks: [() -> Reason?] = [
            { ServiceChecks.certificateIsMissing(state) },
            { directory.flatMap(ServiceChecks.currentSetIsBroken) },
            { directory.flatMap { ServiceChecks.currentSetIsUnverified($0, chainCanBeRebuilt: chainCanBeRebuilt) } },
        ]
        return checks.lazy.compactMap { $0() }.first
    }

    static func decide(
        _ service: ServiceConfig, state: ServiceState, signer: SignerFacts, phase: Phase
    ) -> CurrDecision {
        let directory = state.dbDir(state.curr)
        let chainSource = signer.chainSource(for: service, curr: directory)
        var decision = CurrDecision(directory: directory, chainSource: chainSource)
        decision.problem = unusableReason(state, directory: directory, chainCanBeRebuilt: chainSource != nil)
        guard decision.problem == nil, let directory,
            let repair = ServiceChecks.setNeedsRepair(directory, slot: "curr", chainSource: chainSource ?? "")
        else { return decision }
        if phase == .roll {
            decision.skippedRepair = Note(
                subject: service.address.description,
                reason: Reason(.phaseSkipped, repair.reason.message + " (not in --phase roll)"))
        } else {
            decision.repair = repair
        }
        return decision
    }
}
