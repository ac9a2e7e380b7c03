import SSLMConfig
import SSLMCore

/// What the planner decided for one configured service in this run: values with their reasons, before
/// any action exists. `PlanEmitter` turns it into actions and wires their dependencies.
///
/// The ids of the actions it stands for are derived here, so that later decisions (TLSA, servers, clean)
/// and the emitter name the same actions. A decision is never changed once the next service is decided.
struct ServiceDecision {
    let address: ServiceAddress
    /// The signer as this run sees it (empty for a blocked service).
    var signer = SignerFacts()
    /// The `repair_set` of curr planned in this run.
    var currRepair: ServiceChecks.Repair?
    /// The actions that build (or finish building) next, when a build is planned.
    var build: NextBuild?
    /// The `repair_set` of next (modes of its key files), planned after the build.
    var nextRepair: ServiceChecks.Repair?
    /// Why next becomes curr in this run; nil when it does not.
    var roll: RollPlan?
    /// The update of the service's production copy; nil when production stays.
    var production: ProductionDecision?
    /// The notes, in the order of the decisions: curr, renewal or build, roll, production.
    var notes: [Note] = []

    init(address: ServiceAddress) { self.address = address }

    /// A service the planner does not touch; the note says why.
    static func blocked(_ address: ServiceAddress, note: Note) -> ServiceDecision {
        var decision = ServiceDecision(address: address)
        decision.notes = [note]
        return decision
    }
}

/// next becoming curr: why, and which db directory (nil = the one built in this run).
struct RollPlan {
    var reason: Reason
    var next: String?
}

extension ServiceDecision {
    /// Whether curr changes in this run.
    var changesCurr: Bool { roll != nil }
    var buildsNext: Bool { build != nil }
    /// Whether the repair of curr rebuilds files (not only modes): production then takes the repaired set.
    var rebuildsCurr: Bool { currRepair.map { !$0.rebuild.isEmpty } ?? false }

    var currRepairId: String? { currRepair.map { _ in ActionID.service(address, .currRepair).description } }
    var nextRepairId: String? { nextRepair.map { _ in ActionID.service(address, .nextRepair).description } }
    var rollId: String? { roll.map { _ in ActionID.service(address, .roll).description } }
    var productionId: String? { production.map { _ in ActionID.service(address, .production).description } }
    /// The last step of the build of next.
    var lastBuildStepId: String? { build?.steps.last.map { ActionID.service(address, $0.step).description } }
    /// The last action that writes next: its repair, else the last build step.
    var lastNextId: String? { nextRepairId ?? lastBuildStepId }
    /// What the apex TLSA file waits for: the roll, else the last action writing a new next.
    var tlsaInputId: String? { rollId ?? (buildsNext ? lastNextId : nil) }
}

/// What earlier service decisions of a run tell the later ones: which services are decided (a CA not
/// among them "is not part of this run") and the roll of each local CA that rolls.
struct EarlierDecisions {
    private(set) var decided: Set<ServiceAddress> = []
    /// Local CA name → id of its `roll` action in this run.
    private(set) var caRolls: [String: String] = [:]

    mutating func record(_ decision: ServiceDecision) {
        decided.insert(decision.address)
        if decision.address.group.lowercased() == GroupConfig.caGroup, let rollId = decision.rollId {
            caRolls[decision.address.service] = rollId
        }
    }
}
