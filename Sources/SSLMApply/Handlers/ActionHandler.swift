import Logging
import SSLMCore
import SSLMPlan

/// The executor's side of one action kind: it reads the kind's typed payload, does the work, and says
/// what its journal detail is for. One handler type per kind, each in its own file in this folder;
/// `ActionHandlers.handler(for:)` maps every kind to its handler.
///
/// How actions of the kind are scheduled (alone, per host, in ACME stages) and shown is not the handler's
/// business: it is the kind's `ActionKindTraits` in SSLMPlan, which the plan's ordering and the views read
/// too. A handler keeps no state between actions: what a later action needs travels as the journal detail
/// (see `ResumeRule`), or lives in the run's `ACMERunState` actor.
protocol ActionHandler: Sendable {
    /// The typed fields of the kind's `ActionPayload` case(s) the handler works on.
    associatedtype Payload

    /// The kind handled.
    static var kind: ActionKind { get }

    /// Who reads the detail a finished action records (default: people only).
    static var resume: ResumeRule { get }

    /// The handler's fields of `payload`; throws `mismatch` for a payload of another kind.
    static func payload(of payload: ActionPayload) throws -> Payload

    /// Does the work of `action` (idempotent: its outputs may exist already, after a crash); returns the
    /// detail for the report and the journal. Throws `NonFatalFailure` for a failure that must not stop the
    /// action's dependents.
    func perform(_ payload: Payload, of action: Action, in context: ActionContext) async throws -> String?
}

extension ActionHandler {
    static var resume: ResumeRule { .detailForPeople }

    /// The error for a payload that is not of `kind` (a registry or plan-reading bug, never user input).
    static func mismatch(_ payload: ActionPayload) -> SSLMError {
        SSLMError(
            .malformedInput, "a \(payload.kind.rawValue) payload reached the handler of \(kind.rawValue)")
    }

    /// Reads `action`'s payload and performs it.
    func handle(_ action: Action, in context: ActionContext) async throws -> String? {
        try await perform(Self.payload(of: action.payload), of: action, in: context)
    }
}

/// What a handler is given besides its payload.
struct ActionContext: Sendable {
    /// The run: config, topdir, injected time, options, the ACME state, shared lookups.
    let run: ApplyRun
    /// The details of the plan's finished actions whose kind shares them (`ResumeRule`), from earlier runs
    /// of the plan and this one, by action id.
    let recorded: [String: String]
    /// Carries `action.id` and `action.kind` metadata.
    let logger: Logger
}

/// Who reads the `ok` detail a finished action leaves in the journal.
///
/// Whatever the rule, an action the journal shows as done in an earlier run of the same plan is not run
/// again when the plan is applied again (it is reported `alreadyApplied`), so a value a later action
/// needs must be in the detail, never only in memory.
enum ResumeRule: Sendable, Hashable {
    /// The detail is for people (report, log); nothing reads it back.
    case detailForPeople
    /// Later actions of the same plan read it (`ActionContext.recorded`), in this run or a resumed one:
    /// `create_next`'s `db/<name>`, which `roll` reads.
    case detailForLaterActions
    /// Later actions of the plan read it, and so do later runs of any plan: `acme_order`'s open order,
    /// which a resumed run reopens (`ApplyRun.recordedOrders`). Journal compaction keeps these records;
    /// both find them by id (`ActionID.isACMEOrder`).
    case detailForLaterRuns

    /// Whether later actions of the plan are given the detail.
    var sharesDetail: Bool { self != .detailForPeople }
}

/// The registry: the handler of every action kind. A new kind is a compile error here until its handler
/// exists.
enum ActionHandlers {
    static func handler(for kind: ActionKind) -> any ActionHandler {
        switch kind {
        case .createNext: CreateNextHandler()
        case .generateKey: GenerateKeyHandler()
        case .reuseKey: ReuseKeyHandler()
        case .createCSR: CreateCSRHandler()
        case .signLocal: SignLocalHandler()
        case .acmeOrder: ACMEOrderHandler()
        case .publishChallenges: PublishChallengesHandler()
        case .refreshDNS: RefreshDNSHandler()
        case .awaitPropagation: AwaitPropagationHandler()
        case .answerChallenges: AnswerChallengesHandler()
        case .finalizeOrder: FinalizeOrderHandler()
        case .writeBundle: WriteBundleHandler()
        case .repairSet: RepairSetHandler()
        case .writeTLSA: WriteTLSAHandler()
        case .writeApexTLSA: WriteApexTLSAHandler()
        case .publishTLSA: PublishTLSAHandler()
        case .roll: RollHandler()
        case .syncProduction: SyncProductionHandler()
        case .syncApexTLSA: SyncApexTLSAHandler()
        case .copyToServer: CopyToServerHandler()
        case .postCopy: PostCopyHandler()
        case .restartServer: RestartServerHandler()
        case .clean: CleanHandler()
        case .retireService: RetireServiceHandler()
        }
    }

    /// Whether later actions are given the `ok` detail of an action of `kind` (`ResumeRule.sharesDetail`).
    static func sharesDetail(_ kind: ActionKind) -> Bool {
        type(of: handler(for: kind)).resume.sharesDetail
    }
}
