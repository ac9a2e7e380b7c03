import SSLMConfig
import SSLMCore

/// Old db directories of a service removed in this run: all but the newest `clean_keep` of those that
/// curr, next and prev do not use after the run.
struct CleanDecision {
    let address: ServiceAddress
    var remove: [String]
    var reason: Reason

    /// `rolls`: whether the service's next becomes curr in this run. nil when nothing is removed.
    static func decide(_ address: ServiceAddress, rolls: Bool, context: PlanningContext) -> CleanDecision? {
        guard let state = context.observation.service(address) else { return nil }
        var keep: Set<String> = []
        if rolls {
            if let next = state.next.dbName { keep.insert(next) }  // becomes curr
            if let curr = state.curr.dbName { keep.insert(curr) }  // becomes prev
            if state.curr.dbName == nil, let prev = state.prev.dbName { keep.insert(prev) }
        } else {
            for link in [state.curr, state.next, state.prev] { if let name = link.dbName { keep.insert(name) } }
        }
        let candidates = state.dbDirs.map(\.name).filter { !keep.contains($0) }.sorted()
        let limit = max(1, context.request.cleanKeep ?? context.config.globals.cleanKeep)
        guard candidates.count > limit else { return nil }
        let remove = Array(candidates.prefix(candidates.count - limit))
        return CleanDecision(
            address: address, remove: remove,
            reason: Reason(
                .oldDirectories,
                "\(candidates.count) old db directories, clean_keep is \(limit): removing \(PlanText.list(remove))"))
    }
}
