import SSLMConfig
import SSLMCore

/// Decides one configured service: curr, renewal, next, roll and production, in that order, each a pure
/// function of the context, the service's observed state and the decisions before it.
enum ServiceDecider {
    static func decide(_ service: ServiceConfig, context: PlanningContext, earlier: EarlierDecisions)
        -> ServiceDecision
    {
        let address = service.address
        let state =
            context.observation.service(address)
            ?? ServiceState(
                address: address, exists: false, curr: .absent, next: .absent, prev: .absent, dbDirs: [],
                strayEntries: [])
        if state.curr == .notALink || state.next == .notALink || state.prev == .notALink {
            return .blocked(
                address,
                note: Note(
                    subject: address.description,
                    reason: Reason(
                        .blocked,
                        "certs/\(address.group)/\(address.service): curr, next or prev is not a symbolic link; fix it by hand (nothing planned)"
                    )))
        }
        var decision = ServiceDecision(address: address)
        decision.signer = SignerFacts.resolve(service, context: context, earlier: earlier)
        let curr = CurrDecision.decide(service, state: state, signer: decision.signer, phase: context.request.phase)
        decision.currRepair = curr.repair
        let renewal = RenewalDecision.decide(service, curr: curr, signer: decision.signer, context: context)
        let condition = ServiceChecks.nextCondition(
            state, service: service, signerSubject: decision.signer.subject,
            caFullchainDigest: decision.signer.fullchain, caRollsNow: decision.signer.caRollsNow)
        let next = NextDecision.decide(
            condition, replacingCurr: curr.problem ?? renewal?.reason, service: service, request: context.request)
        let (build, buildNote) = NextBuild.decide(
            service, next: next, state: state, signer: decision.signer, context: context)
        decision.build = build
        if context.request.phase != .roll { decision.nextRepair = next.repair(state) }
        let rollNote = decideRoll(&decision, service: service, state: state, curr: curr, next: next, context: context)
        let nextReady = decision.buildsNext || next.nextIsComplete
        let production = ProductionDecision.decide(
            decision, state: state, currAfterRun: decision.changesCurr || curr.problem == nil,
            nextAfterRun: !decision.changesCurr
                && (nextReady || (state.next != .absent && !decision.buildsNext && condition != .none)),
            context: context)
        decision.production = production.reason == nil ? nil : production
        let notDue = notDueNote(address, next: next, renewal: renewal)
        decision.notes =
            [curr.skippedRepair, buildNote ?? notDue, rollNote].compactMap { $0 } + production.notes
        return decision
    }

    /// Decides the roll of a next that is ready (built now, or complete); returns the note of a roll that
    /// waits.
    private static func decideRoll(
        _ decision: inout ServiceDecision, service: ServiceConfig, state: ServiceState, curr: CurrDecision,
        next: NextDecision, context: PlanningContext
    ) -> Note? {
        guard decision.buildsNext || next.nextIsComplete else { return nil }
        let input = RollInput(
            service: service, state: state, currProblem: curr.problem, builtNow: decision.buildsNext,
            context: context)
        switch RollChain.evaluate(input) {
        case .roll(let reason):
            decision.roll = RollPlan(reason: reason, next: next.newDirectory ? nil : state.next.dbName ?? "")
            return nil
        case .wait(let reason):
            return reason.map { Note(subject: service.address.description, reason: $0) }
        }
    }

    /// The note that says when a usable curr renews, when nothing is built and next is not pending.
    private static func notDueNote(_ address: ServiceAddress, next: NextDecision, renewal: RenewalDecision?)
        -> Note?
    {
        guard next.steps.isEmpty || next.reason == nil, let renewal, !next.nextIsComplete else { return nil }
        return Note(subject: address.description, reason: Reason(.notDue, renewal.notDueSentence))
    }
}
