import SSLMConfig
import SSLMCore

/// What happens to next in this run: the condition the planner found, the steps that (re)build it and why.
/// Decided before the phase and the signer are considered (see `NextBuild.decide`).
struct NextDecision {
    var condition: ServiceChecks.NextCondition
    /// The build steps, in order; empty when next is not built.
    var steps: [ServiceChecks.Step] = []
    /// Whether the steps start from a new db directory.
    var newDirectory = false
    var reason: Reason?

    static let allSteps: [ServiceChecks.Step] = [.key, .csr, .cert, .bundle, .tlsa]

    /// `replacingCurr`: why curr is replaced (unusable, or renewed), when it is.
    static func decide(
        _ condition: ServiceChecks.NextCondition, replacingCurr: Reason?, service: ServiceConfig,
        request: PlanningRequest
    ) -> NextDecision {
        var decision = NextDecision(condition: condition)
        func fresh(_ reason: Reason) {
            decision.steps = allSteps
            decision.newDirectory = true
            decision.reason = reason
        }
        if request.replaceNow && request.phase != .roll && condition != .none, let replacingCurr {
            var reason = replacingCurr
            reason.message += "; the pending next is replaced"
            fresh(reason)
            if service.dane.isEmpty { decision.steps.removeAll { $0 == .tlsa } }
            return decision
        }
        switch condition {
        case .incomplete(let missing, let reason):
            if request.force && request.phase != .roll {
                fresh(Reason(.forced, "--force: replacing the incomplete next with a new one"))
            } else {
                decision.steps = missing
                decision.reason = reason
            }
        case .replace(let reason):
            fresh(reason)
        case .complete:
            if request.force && request.phase == .renew {
                fresh(Reason(.forced, "--force: replacing the pending next with a new one"))
            }
        case .none:
            if let replacingCurr { fresh(replacingCurr) }
        }
        if service.dane.isEmpty { decision.steps.removeAll { $0 == .tlsa } }
        return decision
    }

    /// Whether a pending next is complete (it can roll without a build).
    var nextIsComplete: Bool { condition == .complete }

    /// The repair of next's key file modes, when next keeps its key and a key file has another mode than
    /// 0600 (a damaged file of next is made again instead).
    func repair(_ state: ServiceState) -> ServiceChecks.Repair? {
        guard !newDirectory, !steps.contains(.key), let directory = state.dbDir(state.next),
            directory.modeDrift != nil
        else { return nil }
        return ServiceChecks.setNeedsRepair(
            directory, slot: "next", chainSource: "", ignoring: Set(ServiceChecks.derivedFiles))
    }
}
