import SSLMCore

/// What the plan's ordering, the executor's batching and the plan views need to know about an action kind,
/// in one place: `ActionKind.traits` is the only switch over kinds outside the payload (`ActionPayload`)
/// and the executor's handler registry (`ActionHandlers` in SSLMApply).
///
/// Traits describe how actions are scheduled and shown; they never change what an action does.
public struct ActionKindTraits: Sendable, Hashable {
    /// Whether and how actions of the kind run at the same time as others of the kind.
    public var concurrency: ActionConcurrency
    /// Under which heading the human plan view lists actions that belong to no service.
    public var subject: ActionSubject

    public init(concurrency: ActionConcurrency = .serial, subject: ActionSubject = .serviceOrApex) {
        self.concurrency = concurrency
        self.subject = subject
    }
}

/// How the executor may overlap actions of one kind. Only actions of the same kind, consecutive in the
/// plan and none depending on another, ever form a batch; a batch finishes before the next action starts.
public enum ActionConcurrency: Sendable, Hashable {
    /// One at a time, in plan order.
    case serial
    /// A stage of ACME issuing: `ActionOrdering` holds the kind's ready actions back until nothing else is
    /// ready and emits them together, the lowest `stage` first, so that each stage of every service forms
    /// one batch for the whole run. They talk to a CA or wait for DNS and write only their own service's
    /// files. The executor runs at most `acmeConcurrency` of a batch at a time.
    case acmeStage(Int)
    /// Actions on different hosts (`ActionID.host`) run together; two actions on the same host — or on
    /// this machine under two names — never overlap. The plan's order is not changed for them. The
    /// executor runs at most `hostConcurrency` at a time.
    case perHost
}

/// The heading of an action that belongs to no service in the human plan view.
public enum ActionSubject: Sendable, Hashable {
    /// The apex its id names (`ActionID.apex`), or else its id.
    case serviceOrApex
    /// The servers the production tree is copied to and restarted on.
    case servers
    /// The DNS zones refreshed.
    case dns
}

extension ActionKind {
    /// The kind's traits (see `ActionKindTraits`). Adding a kind: its line here, when it is not serial or
    /// is shown under another heading than its service or apex.
    public var traits: ActionKindTraits {
        switch self {
        case .acmeOrder: ActionKindTraits(concurrency: .acmeStage(0))
        case .awaitPropagation: ActionKindTraits(concurrency: .acmeStage(1))
        case .answerChallenges: ActionKindTraits(concurrency: .acmeStage(2))
        case .finalizeOrder: ActionKindTraits(concurrency: .acmeStage(3))
        case .copyToServer, .postCopy: ActionKindTraits(subject: .servers)
        case .restartServer: ActionKindTraits(concurrency: .perHost, subject: .servers)
        case .refreshDNS: ActionKindTraits(subject: .dns)
        case .createNext, .generateKey, .reuseKey, .createCSR, .signLocal, .publishChallenges, .writeBundle,
            .repairSet, .writeTLSA, .writeApexTLSA, .publishTLSA, .roll, .syncProduction, .syncApexTLSA, .clean,
            .retireService:
            ActionKindTraits()
        }
    }

    /// Kinds `ActionOrdering` gathers into one batch per stage (`ActionConcurrency.acmeStage`).
    public var runsConcurrently: Bool {
        if case .acmeStage = traits.concurrency { return true }
        return false
    }

    /// The order of the `acmeStage` batches when several are ready (after every stage for other kinds).
    var batchStage: Int {
        if case .acmeStage(let stage) = traits.concurrency { return stage }
        return Int.max
    }
}

extension Action {
    /// The heading the action is listed under in views and diffs: its service, else its kind's subject
    /// (`ActionKindTraits.subject`): the apex its id names, `servers` or `dns`.
    public var subject: String {
        if let service { return service }
        switch kind.traits.subject {
        case .servers: return "servers"
        case .dns: return "dns"
        case .serviceOrApex: return ActionID(id)?.apex ?? id
        }
    }
}
