import SSLMConfig
import SSLMCore

extension ServerDecision {
    /// DNS refresh: last, after the restarts (mail servers load the new key before old records go); forced
    /// or retried for the run's apexes. A note instead when `[dns]` cannot or must not refresh.
    static func decideDNSRefresh(
        _ changes: Changes, restarting: Bool, pending: Set<String>, context: PlanningContext
    ) -> DNSRefresh? {
        let request = context.request
        // `--test` publishes no TLSA record (a staging key never reaches the zone): nothing to refresh for it.
        let tlsaApexes = request.acmeStaging ? [] : changes.tlsaApexes
        var domains = tlsaApexes
        let reason: Reason
        if !tlsaApexes.isEmpty {
            reason = Reason(
                .dnsChanged,
                "TLSA records of \(tlsaApexes.joined(separator: ", ")) changed"
                    + (restarting ? "; after the server restarts, so no server is left without a record" : ""))
        } else if request.forceRestarts || request.forceDNSRefresh {
            domains = context.apexes(of: changes.services)
            reason = Reason(
                .forced, "DNS refresh forced (\(request.forceRestarts ? "force-server-restarts" : "dns-refresh"))")
        } else if pending.contains(ActionID.dnsRefresh.description) {
            domains = context.apexes(of: changes.services).filter { context.observation.group($0) != nil }
            reason = retry("DNS refresh")
        } else {
            return nil
        }
        // Zones sslm changes itself (rfc2136, exec) have their records already: no refresh.
        domains = domains.filter { ZoneUpdateMethod.usesIncludeFiles($0, config: context.config) }
        guard !domains.isEmpty else { return nil }
        let dns = context.config.dns
        if dns.restartCommands.isEmpty {
            return .note(
                Note(
                    subject: "dns",
                    reason: Reason(
                        .dnsChanged,
                        "TLSA of \(domains.joined(separator: ", ")) changed; [dns] restart_cmd is not set, so refresh the zone yourself"
                    )))
        }
        let matched = dns.depends.intersection(changes.tokens)
        guard !matched.isEmpty || reason.code == ReasonCode.retry.rawValue || reason.code == ReasonCode.forced.rawValue
        else {
            return .note(
                Note(
                    subject: "dns",
                    reason: Reason(
                        .dnsChanged,
                        "TLSA of \(domains.joined(separator: ", ")) changed, but [dns] depends lists neither 'tlsa' nor 'dns': the zone is not refreshed"
                    )))
        }
        return .refresh(domains: domains, reason)
    }
}
