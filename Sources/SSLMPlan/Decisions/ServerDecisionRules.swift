import SSLMConfig
import SSLMCore

/// The rules of `ServerDecision`, one per kind of work.
extension ServerDecision {
    /// Copies: when production changes, or to retry a copy that did not succeed; each host once.
    static func decideCopies(_ changes: Changes, pending: Set<String>, context: PlanningContext) -> [Copy] {
        let servers = context.config.servers
        var copies: [Copy] = []
        var done: Set<String> = []
        for section in servers where !section.skipProdCopy {
            for host in section.servers where !context.isLocal(host) && !done.contains(host) {
                done.insert(host)
                let reason: Reason
                if changes.production {
                    reason = Reason(.serversChanged, "production changed: copying it to \(host)")
                } else if pending.contains(ActionID.copyToServer(host: host).description) {
                    reason = retry("copy to \(host)")
                } else {
                    continue
                }
                let sections = servers.filter { $0.servers.contains(host) && !$0.skipProdCopy }.map(\.name)
                copies.append(Copy(host: host, sections: sections, reason: reason))
            }
        }
        return copies
    }

    /// `post_copy_cmd`: after the copy to its host (or after production, for a host not copied to).
    static func decidePostCopies(
        _ changes: Changes, copied: Set<String>, pending: Set<String>, context: PlanningContext
    ) -> [PostCopy] {
        var posts: [PostCopy] = []
        for command in context.config.globals.postCopyCommands where !posts.contains(where: { $0.host == command.host })
        {
            let reason: Reason
            if changes.production || copied.contains(command.host) {
                reason = Reason(.serversChanged, "production changed: post_copy_cmd for \(command.host)")
            } else if pending.contains(ActionID.postCopy(host: command.host).description) {
                reason = retry("post_copy_cmd for \(command.host)")
            } else {
                continue
            }
            posts.append(PostCopy(host: command.host, command: command.command, reason: reason))
        }
        return posts
    }

    /// Restarts: per section whose dependencies changed (or forced), on each of its hosts; retried per host.
    static func decideRestarts(_ changes: Changes, pending: Set<String>, context: PlanningContext) -> [Restart] {
        var restarts: [Restart] = []
        for section in context.config.servers where !section.restartCommands.isEmpty && !section.servers.isEmpty {
            let why = restartCause(section, changes: changes, forced: context.request.forceRestarts)
            for host in section.servers {
                let reason: Reason
                if let why {
                    reason = Reason(.serversChanged, "[\(section.name)] \(why)")
                } else if pending.contains(ActionID.restart(section: section.name, host: host).description) {
                    reason = retry("restart of [\(section.name)] on \(host)")
                } else {
                    continue
                }
                restarts.append(
                    Restart(
                        section: section.name, host: host,
                        commands: section.restartCommands.map { $0.joined(separator: " ") }, reason: reason))
            }
        }
        return restarts
    }

    /// Why a server section restarts: forced, a change it depends on, or a service in `svc_depends` with a
    /// new curr; nil when nothing it depends on changed.
    static func restartCause(_ section: ServerSection, changes: Changes, forced: Bool) -> String? {
        if forced { return "restart forced (force-server-restarts)" }
        let matchedTokens = section.depends.intersection(changes.tokens)
        if !matchedTokens.isEmpty {
            return "depends on \(matchedTokens.map(\.rawValue).sorted().joined(separator: ", ")), which changed"
        }
        for dependency in section.serviceDependencies {
            let hit = changes.changedCurr.first { address in
                (dependency.matchesEveryGroup || dependency.domain.lowercased() == address.group.lowercased())
                    && dependency.services.contains(address.service)
            }
            if let hit { return "svc_depends: \(hit) has a new curr" }
        }
        return nil
    }
}
