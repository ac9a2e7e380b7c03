import SSLMConfig
import SSLMCore

/// Turns a run's decisions into actions and notes, and wires the dependency edges between the actions.
///
/// Append-only: an action is complete when it is emitted and is never changed afterwards, so every edge
/// is known before its action exists (the decisions are all made first). Emits in planner order —
/// services, apex TLSA, ACME batches, servers and DNS, cleaning; `ActionOrdering` then derives the
/// execution order from the checked `ActionGraph`.
struct PlanEmitter {
    private(set) var actions: [Action] = []
    private(set) var notes: [Note] = []
    /// The decided services, by address (for the ids later actions wait for).
    let decisions: [ServiceAddress: ServiceDecision]

    private init(decisions: [ServiceAddress: ServiceDecision]) { self.decisions = decisions }

    static func emit(_ run: RunDecisions) -> (actions: [Action], notes: [Note]) {
        var emitter = PlanEmitter(decisions: run.decisions)
        let edges = RunEdges(run)
        for entry in run.services {
            switch entry {
            case .decided(let decision): emitter.emitService(decision)
            case .unconfigured(let note): emitter.note(note)
            }
        }
        for note in run.unconfiguredNotes { emitter.note(note) }
        for tlsa in run.tlsa { emitter.emitTLSA(tlsa, restartIds: edges.restarts) }
        emitter.emitACME(run.acme)
        emitter.emitServers(run.servers, edges: edges)
        emitter.emitDNSRefresh(run.servers.dnsRefresh, edges: edges)
        for clean in run.clean {
            emitter.emit(
                Action(
                    .service(clean.address, .clean), service: clean.address, payload: .clean(remove: clean.remove),
                    reason: clean.reason, dependsOn: emitter.decisions[clean.address]?.rollId.map { [$0] } ?? []))
        }
        for retire in run.retire {
            retire.notes.forEach { emitter.note($0) }
            guard let action = retire.retire else { continue }
            emitter.emit(
                Action(
                    .service(retire.address, .retire), service: retire.address,
                    payload: .retireService(production: action.production, revoke: action.revoke),
                    reason: action.reason))
        }
        return (emitter.actions, emitter.notes)
    }

    /// Adds a complete action.
    mutating func emit(_ action: Action) { actions.append(action) }

    mutating func note(_ note: Note) { notes.append(note) }
}

/// The ids the server and DNS actions wait for, derived from the decisions.
struct RunEdges {
    /// Every production update of the run: services, then apex TLSA files.
    var production: [String]
    /// The TLSA actions DNS must follow: the write and the copies of each apex whose records reach DNS.
    var tlsa: [String]
    var restarts: [String]

    init(_ run: RunDecisions) {
        production =
            run.orderedDecisions.compactMap(\.productionId)
            + run.tlsa.filter { $0.production != nil }.map { ActionID.apexProduction(apex: $0.apex).description }
        tlsa = run.tlsa.filter(\.published).flatMap { decision in
            (decision.write == nil ? [] : [ActionID.apexTLSA(apex: decision.apex).description])
                + (decision.publish == nil ? [] : [ActionID.apexTLSAPublish(apex: decision.apex).description])
        }
        restarts = run.servers.restarts.map(\.id)
    }
}
