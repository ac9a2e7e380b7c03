import SSLMConfig
import SSLMCore

/// The actions on the servers and DNS: copies after every production update, each host's
/// `post_copy_cmd` after its copy, restarts after their host's copy and command (so one unreachable
/// host does not hold back the others), and the DNS refresh after the TLSA copies and every restart.
extension PlanEmitter {
    mutating func emitServers(_ decision: ServerDecision, edges: RunEdges) {
        var copyIds: [String: String] = [:]
        for copy in decision.copies {
            emit(
                Action(
                    id: copy.id, payload: .copyToServer(host: copy.host, sections: copy.sections),
                    reason: copy.reason, dependsOn: edges.production))
            copyIds[copy.host] = copy.id
        }
        var postIds: [String: String] = [:]
        for post in decision.postCopies {
            emit(
                Action(
                    id: post.id, payload: .postCopy(host: post.host, command: post.command), reason: post.reason,
                    dependsOn: copyIds[post.host].map { [$0] } ?? edges.production))
            postIds[post.host] = post.id
        }
        for restart in decision.restarts {
            let ownHost = [copyIds[restart.host], postIds[restart.host]].compactMap { $0 }
            emit(
                Action(
                    id: restart.id,
                    payload: .restartServer(section: restart.section, host: restart.host, commands: restart.commands),
                    reason: restart.reason, dependsOn: ownHost.isEmpty ? edges.production : ownHost))
        }
    }

    mutating func emitDNSRefresh(_ decision: ServerDecision.DNSRefresh?, edges: RunEdges) {
        switch decision {
        case .refresh(let domains, let reason):
            emit(
                Action(
                    .dnsRefresh, payload: .refreshDNS(domains: domains), reason: reason,
                    dependsOn: edges.tlsa + edges.restarts))
        case .note(let dnsNote):
            note(dnsNote)
        case nil:
            break
        }
    }
}
