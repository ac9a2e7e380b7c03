import SSLMConfig
import SSLMCore

/// What this run does on the servers and to DNS after production changed: copies to hosts, their
/// `post_copy_cmd`, server restarts and the DNS refresh (or the note saying why DNS is not refreshed).
/// Work an earlier run did not finish (`Observation.pendingDeployment`) is retried.
struct ServerDecision {
    /// A copy of production to one host, with the server sections it serves.
    struct Copy {
        var host: String
        var sections: [String]
        var reason: Reason
        var id: String { ActionID.copyToServer(host: host).description }
    }

    /// The `post_copy_cmd` of one host.
    struct PostCopy {
        var host: String
        var command: String
        var reason: Reason
        var id: String { ActionID.postCopy(host: host).description }
    }

    /// A restart of one server section on one host.
    struct Restart {
        var section: String
        var host: String
        var commands: [String]
        var reason: Reason
        var id: String { ActionID.restart(section: section, host: host).description }
    }

    /// The DNS refresh of the run, or the note that replaces it.
    enum DNSRefresh {
        case refresh(domains: [String], Reason)
        case note(Note)
    }

    var copies: [Copy] = []
    var postCopies: [PostCopy] = []
    var restarts: [Restart] = []
    var dnsRefresh: DNSRefresh?

    /// What changed in this run that servers and DNS react to.
    struct Changes {
        /// Whether production changes (a service's or an apex TLSA file's copy).
        var production: Bool
        /// Services whose curr changes, in service order.
        var changedCurr: [ServiceAddress]
        /// Apexes whose TLSA records reach DNS.
        var tlsaApexes: [String]
        /// The run's services, for the apexes of a forced or retried refresh.
        var services: [ServiceAddress]

        var tokens: Set<ChangeToken> {
            var tokens: Set<ChangeToken> = []
            if !changedCurr.isEmpty { tokens.insert(.cert) }
            if !tlsaApexes.isEmpty { tokens.formUnion([.tlsa, .dns]) }
            return tokens
        }
    }

    static func decide(_ changes: Changes, context: PlanningContext) -> ServerDecision {
        var decision = ServerDecision()
        let pending = Set(context.observation.pendingDeployment)
        decision.copies = decideCopies(changes, pending: pending, context: context)
        decision.postCopies = decidePostCopies(
            changes, copied: Set(decision.copies.map(\.host)), pending: pending, context: context)
        decision.restarts = decideRestarts(changes, pending: pending, context: context)
        decision.dnsRefresh = decideDNSRefresh(
            changes, restarting: !decision.restarts.isEmpty, pending: pending, context: context)
        return decision
    }

    static func retry(_ what: String) -> Reason {
        Reason(.retry, "the last \(what) did not succeed (see .sslm/journal.jsonl): retrying")
    }
}
