import SSLMConfig
import SSLMCore

extension TLSADecision {
    /// `oldKeyIsStillServed`: the published copies of `tlsa.<apex>` keep an old key's records while a DANE
    /// endpoint of the apex still presents that key (`Observation.daneEndpoints`): the copy is not updated in
    /// this run, and the reason names the endpoints. A service that rolls in this run with a restart planned
    /// for it does not hold (the restart makes its servers present the new key before the copy is updated);
    /// one without (no `servers` with a `restart_cmd` depend on it) does. An endpoint that cannot be probed
    /// holds only with `[dns] dane_unreachable_holds`. nil when nothing holds the update.
    static func oldKeyIsStillServed(
        apex: String, decisions: [ServiceAddress: ServiceDecision], context: PlanningContext
    ) -> Reason? {
        let probes = (context.observation.daneEndpoints ?? []).filter { $0.service.hasPrefix(apex + "/") }
        var held: [String] = []
        for probe in probes {
            guard let address = context.config.services.keys.first(where: { $0.description == probe.service }),
                let state = context.observation.service(address)
            else { continue }
            let decision = decisions[address]
            let rolls = decision?.changesCurr == true
            if rolls && restartIsPlanned(for: address, context: context) { continue }
            guard let spki = probe.spkiSHA256 else {
                if context.config.dns.daneUnreachableHolds {
                    held.append(
                        "\(probe.sentence) cannot be probed (\(probe.failure ?? "?")) and [dns] dane_unreachable_holds is set"
                    )
                }
                continue
            }
            let curr = state.dbDir(state.curr)?.key?.spkiSHA256
            let next = state.dbDir(state.next)?.key?.spkiSHA256
            let prev = state.dbDir(state.prev)?.key?.spkiSHA256
            let kept: Set<String?> = rolls ? [next] : [curr, next]
            let published: Set<String?> = [curr, prev, next]
            guard !kept.contains(spki), published.contains(spki) else { continue }
            let which = spki == curr ? "curr's key (\(rolls ? "replaced in this run" : "current"))" : "prev's key"
            let restart = rolls ? "; no server section restarts \(address)" : ""
            held.append("\(probe.sentence) still presents \(which)\(restart)")
        }
        guard !held.isEmpty else { return nil }
        return Reason(
            .tlsaHeld,
            "the published tlsa.\(apex) keeps the old key's records: " + held.joined(separator: "; ")
                + "; they are withdrawn once every endpoint presents the new key (reload the server; every run probes again)"
        )
    }

    /// Whether a server section with hosts and a restart command restarts for a new curr of `address`.
    static func restartIsPlanned(for address: ServiceAddress, context: PlanningContext) -> Bool {
        let changes = ServerDecision.Changes(
            production: true, changedCurr: [address], tlsaApexes: [], services: [address])
        return context.config.servers.contains { section in
            !section.restartCommands.isEmpty && !section.servers.isEmpty
                && ServerDecision.restartCause(section, changes: changes, forced: context.request.forceRestarts) != nil
        }
    }
}
