import SSLMPlan

/// What became of one action of an applied plan.
public enum ActionOutcome: Sendable, Hashable {
    /// The action ran and did its work; `detail` says what (e.g. the db directory created).
    case succeeded(detail: String?)
    /// The journal shows this action already succeeded in an earlier run of the same plan; not run again.
    case alreadyApplied
    /// The action ran and failed; nothing that depends on it ran.
    case failed(reason: String)
    /// Not run because `dependency` (an action it depends on, directly or not) failed or was skipped.
    case skipped(dependency: String)
    /// The action's program failed, but its kind is not fatal (`post_copy`, as in ssl-mgr): reported,
    /// and actions after it still run.
    case failedNonFatal(reason: String)

    /// True for `succeeded` and `alreadyApplied`.
    public var isSuccess: Bool {
        switch self {
        case .succeeded, .alreadyApplied: true
        default: false
        }
    }

    /// True when actions depending on this one may run.
    var unblocksDependents: Bool {
        switch self {
        case .succeeded, .alreadyApplied, .failedNonFatal: true
        case .failed, .skipped: false
        }
    }
}

/// The result of one action.
public struct ActionResult: Sendable, Hashable {
    public var id: String
    public var kind: ActionKind
    public var outcome: ActionOutcome

    public init(id: String, kind: ActionKind, outcome: ActionOutcome) {
        self.id = id
        self.kind = kind
        self.outcome = outcome
    }
}

/// What `Executor.apply` did: one result per action of the plan, in plan order.
///
/// `succeeded` is true only when every action succeeded (or had already been applied); a non-fatal
/// failure (`post_copy`) or any failed or skipped action makes it false, and the CLI exits non-zero.
public struct ApplyReport: Sendable, Hashable {
    /// `sha256:` of the plan's canonical JSON: the plan's identity in the journal.
    public var planDigest: String
    public var results: [ActionResult]

    public init(planDigest: String, results: [ActionResult]) {
        self.planDigest = planDigest
        self.results = results
    }

    public var succeeded: Bool { results.allSatisfy { $0.outcome.isSuccess } }

    public func result(_ id: String) -> ActionResult? { results.first { $0.id == id } }

    public func outcome(_ id: String) -> ActionOutcome? { result(id)?.outcome }

    /// The failed actions with their reasons, in plan order.
    public var failures: [(id: String, reason: String)] {
        results.compactMap { result in
            switch result.outcome {
            case .failed(let reason), .failedNonFatal(let reason): (result.id, reason)
            default: nil
            }
        }
    }
}
