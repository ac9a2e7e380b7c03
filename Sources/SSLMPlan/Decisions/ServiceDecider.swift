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
        if let note = linksAreBroken(state, address: address) { return .blocked(address, note: note) }
        let phase = context.request.phase
        var decision = ServiceDecision(address: address)
        decision.signer = SignerFacts.resolve(service, context: context, earlier: earlier)
        let signer = decision.signer
        let curr = CurrDecision.decide(service, state: state, signer: signer, phase: phase)
        let renewal = RenewalDecision.decide(service, curr: curr, signer: signer, context: context)
        let condition = ServiceChecks.nextCondition(
            state, service: service, signerSubject: signer.subject, caFullchainDigest: signer.fullchain,
            caRollsNow: signer.caRollsNow, issuers: IssuerExpectation(service, signer: signer, context: context))
        let next = NextDecision.decide(
            condition, replacingCurr: curr.problem ?? renewal?.reason, service: service, request: context.request)
        let (build, buildNote) = NextBuild.decide(service, next: next, state: state, signer: signer, context: context)
        let (roll, rollNote) = decideRoll(
            service, state: state, curr: curr, next: next, builtNow: build != nil, context: context)
        decision.currRepair = curr.repair
        decision.build = build
        decision.nextRepair = phase == .roll ? nil : next.repair(state)
        decision.roll = roll
        let production = ProductionDecision.decide(
            decision, state: state, currAfterRun: decision.changesCurr || curr.problem == nil,
            nextAfterRun: nextAfterRun(decision, state: state, next: next), context: context)
        decision.production = production.reason == nil ? nil : production
        let notDue = notDueNote(address, next: next, renewal: renewal)
        decision.notes = [curr.skippedRepair, buildNote ?? notDue, rollNote].compactMap { $0 } + production.notes
        return decision
    }

    /// `linksAreBroken`: curr, next or prev is not a symbolic link; nothing is planned until a person fixes it.
    private static func linksAreBroken(_ state: ServiceState, address: ServiceAddress) -> Note? {
        guard state.curr == .notALink || state.next == .notALink || state.prev == .notALink else { return nil }
        return Note(
            subject: address.description,
            reason: Reason(
                .blocked,
                "certs/\(address.group)/\(address.service): curr, next or prev is not a symbolic link; fix it by hand (nothing planned)"
            ))
    }

    /// The roll of a next that is ready (built now, or complete), or the note of a roll that waits.
    private static func decideRoll(
        _ service: ServiceConfig, state: ServiceState, curr: CurrDecision, next: NextDecision, builtNow: Bool,
        context: PlanningContext
    ) -> (roll: RollPlan?, note: Note?) {
        guard builtNow || next.nextIsComplete else { return (nil, nil) }
        let input = RollInput(
            service: service, state: state, currProblem: curr.problem, builtNow: builtNow, context: context)
        switch RollChain.evaluate(input) {
        case .roll(let reason):
            return (RollPlan(reason: reason, next: next.newDirectory ? nil : state.next.dbName ?? ""), nil)
        case .wait(let reason):
            return (nil, reason.map { Note(subject: service.address.description, reason: $0) })
        }
    }

    /// Whether production holds a next after the run: one that is ready or pending, unless it rolls now.
    private static func nextAfterRun(_ decision: ServiceDecision, state: ServiceState, next: NextDecision) -> Bool {
        guard !decision.changesCurr else { return false }
        let ready = decision.buildsNext || next.nextIsComplete
        return ready || (state.next != .absent && !decision.buildsNext && next.condition != .none)
    }

    /// The note that says when a usable curr renews, when nothing is built and next is not pending.
    private static func notDueNote(_ address: ServiceAddress, next: NextDecision, renewal: RenewalDecision?)
        -> Note?
    {
        guard next.steps.isEmpty || next.reason == nil, let renewal, !next.nextIsComplete else { return nil }
        return Note(subject: address.description, reason: Reason(.notDue, renewal.notDueSentence))
    }
}
