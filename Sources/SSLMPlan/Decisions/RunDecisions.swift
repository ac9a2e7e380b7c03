import SSLMConfig
import SSLMCore

/// Everything the planner decided for one run, before any action exists: per service (in planning
/// order), per apex (TLSA, ACME batches), for the servers and DNS, and the cleaning. `PlanEmitter` turns it
/// into actions and notes.
struct RunDecisions {
    /// One planned service: its decision, or the note for a target without a service file.
    enum ServiceEntry {
        case decided(ServiceDecision)
        case unconfigured(Note)
    }

    var services: [ServiceEntry] = []
    /// Notes on `certs/` directories the config does not name.
    var unconfiguredNotes: [Note] = []
    var tlsa: [TLSADecision] = []
    var acme = ACMEBatchDecision()
    var servers = ServerDecision()
    var clean: [CleanDecision] = []
    /// The `certs/` directories that left the config: notes, or their retirement (`--retire`).
    var retire: [RetireDecision] = []

    /// The decided services, by address.
    var decisions: [ServiceAddress: ServiceDecision] {
        var result: [ServiceAddress: ServiceDecision] = [:]
        for case .decided(let decision) in services { result[decision.address] = decision }
        return result
    }

    /// The decided services, in planning order.
    var orderedDecisions: [ServiceDecision] {
        services.compactMap { if case .decided(let decision) = $0 { decision } else { nil } }
    }

    static func decide(_ context: PlanningContext) -> RunDecisions {
        var run = RunDecisions()
        let services = context.orderedServices()
        run.services = decideServices(services, context: context)
        run.retire = RetireDecision.decide(context: context)
        let orphans = Set((context.observation.orphans ?? []).map(\.address))
        run.unconfiguredNotes = context.observation.unconfigured.filter { !orphans.contains($0) }.map { address in
            Note(
                subject: address.description,
                reason: Reason(
                    .unconfigured,
                    "certs/\(address.group)/\(address.service) is not in the config: left alone (its production copy too)"
                ))
        }
        let decisions = run.decisions
        let ordered = run.orderedDecisions
        run.tlsa = context.apexes(of: services).compactMap { apex in
            TLSADecision.decide(
                apex: apex, services: services.filter { $0.group == apex }, decisions: decisions, context: context)
        }
        run.tlsa += withdrawals(run.retire, decided: Set(run.tlsa.map(\.apex)), context: context)
        run.acme = ACMEBatchDecision.decide(ordered, context: context)
        let changes = ServerDecision.Changes(
            production: ordered.contains { $0.production != nil }
                || run.tlsa.contains { $0.production != nil },
            changedCurr: ordered.filter(\.changesCurr).map(\.address),
            tlsaApexes: run.tlsa.filter(\.published).map(\.apex), services: services)
        run.servers = ServerDecision.decide(changes, context: context)
        let config = context.config
        let cleanScope =
            context.request.cleanAll
            ? context.observation.services.map(\.address).filter { config.service($0) != nil }
            : services.filter { config.service($0) != nil }
        run.clean = cleanScope.compactMap { address in
            CleanDecision.decide(address, rolls: decisions[address]?.changesCurr ?? false, context: context)
        }
        return run
    }

    /// The TLSA withdrawals of the retired services' apexes that no configured DANE service keeps (an apex
    /// with DANE services left rebuilds its file from them: `tlsa_drift`).
    private static func withdrawals(_ retire: [RetireDecision], decided: Set<String>, context: PlanningContext)
        -> [TLSADecision]
    {
        let retired = retire.filter { $0.retire != nil }.map(\.address)
        return orderedUnique(retired.map(\.group)).filter { apex in
            !decided.contains(apex) && apex.lowercased() != GroupConfig.caGroup
                && context.observation.group(apex)?.tlsaFile != nil
                && !context.config.services.values.contains { $0.address.group == apex && !$0.dane.isEmpty }
        }.map { apex in
            TLSADecision.withdraw(apex: apex, retired: retired.filter { $0.group == apex }, context: context)
        }
    }

    /// Each service in planning order, a local CA's decision before the services it signs.
    /// In planning order. A decision sees the earlier ones only through the local CAs' (`EarlierDecisions`:
    /// which CA is decided, which one rolls), so each run of consecutive services outside the `ca` group is
    /// decided in parallel against the same earlier decisions: the same decisions as one after another.
    private static func decideServices(_ services: [ServiceAddress], context: PlanningContext) -> [ServiceEntry] {
        var earlier = EarlierDecisions()
        var entries: [ServiceEntry] = []
        entries.reserveCapacity(services.count)
        var index = 0
        while index < services.count {
            var end = index + 1
            if !services[index].isCertificateAuthority {
                while end < services.count, !services[end].isCertificateAuthority { end += 1 }
            }
            let seen = earlier
            let batch = ParallelMap.map(Array(services[index..<end]), minimumChunk: 256, makeContext: { () }) {
                _, address in
                entry(address, context: context, earlier: seen)
            }
            for case .decided(let decision) in batch { earlier.record(decision) }
            entries += batch
            index = end
        }
        return entries
    }

    private static func entry(_ address: ServiceAddress, context: PlanningContext, earlier: EarlierDecisions)
        -> ServiceEntry
    {
        guard let service = context.config.service(address) else {
            return .unconfigured(
                Note(
                    subject: address.description,
                    reason: Reason(.unconfigured, "\(address) has no service file; nothing planned")))
        }
        return .decided(ServiceDecider.decide(service, context: context, earlier: earlier))
    }
}
