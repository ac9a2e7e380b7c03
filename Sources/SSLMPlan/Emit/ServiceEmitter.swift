import SSLMConfig
import SSLMCore

/// The actions of one service: curr's repair, the build of next (a chain, each step after the one before),
/// next's repair, the roll and the production update.
extension PlanEmitter {
    mutating func emitService(_ decision: ServiceDecision) {
        let address = decision.address
        if let repair = decision.currRepair {
            emitRepair(address, .currRepair, slot: .curr, repair: repair, dependsOn: [])
        }
        if let build = decision.build { emitBuild(build, decision: decision) }
        if let repair = decision.nextRepair {
            emitRepair(
                address, .nextRepair, slot: .next, repair: repair,
                dependsOn: decision.lastBuildStepId.map { [$0] } ?? [])
        }
        if let roll = decision.roll {
            emit(
                Action(
                    .service(address, .roll), service: address, payload: .roll(next: roll.next), reason: roll.reason,
                    dependsOn: decision.lastNextId.map { [$0] } ?? []))
        }
        if let production = decision.production, let reason = production.reason {
            emit(
                Action(
                    .service(address, .production), service: address,
                    payload: .syncServiceProduction(curr: production.curr, next: production.next),
                    reason: reason, dependsOn: Self.productionDependencies(decision)))
        }
        for serviceNote in decision.notes { note(serviceNote) }
    }

    /// Production follows the roll; else the new next (and curr's repair); else curr's rebuilding repair.
    static func productionDependencies(_ decision: ServiceDecision) -> [String] {
        if let rollId = decision.rollId { return [rollId] }
        if decision.buildsNext { return [decision.lastNextId, decision.currRepairId].compactMap { $0 } }
        if decision.rebuildsCurr, let repairId = decision.currRepairId { return [repairId] }
        return []
    }

    private mutating func emitRepair(
        _ address: ServiceAddress, _ step: ActionID.ServiceStep, slot: CertificateSlot, repair: ServiceChecks.Repair,
        dependsOn: [String]
    ) {
        emit(
            Action(
                .service(address, step), service: address,
                payload: .repairSet(slot: slot, rebuild: repair.rebuild, modes: repair.modes),
                reason: repair.reason, dependsOn: dependsOn))
    }

    /// The build steps, each after the one before; a local signature also after the CA's roll, the ACME
    /// answers also after the apex's challenges are published (http-01) or propagated (dns-01).
    private mutating func emitBuild(_ build: NextBuild, decision: ServiceDecision) {
        let address = decision.address
        var previous: String?
        for step in build.steps {
            var dependsOn = previous.map { [$0] } ?? []
            switch step.payload {
            case .signLocal:
                dependsOn += decision.signer.caRollId.map { [$0] } ?? []
            case .answerChallenges(let type):
                let gate: ActionID.ACMEBatchStep = type == .dns01 ? .await : .publish
                dependsOn.append(ActionID.acmeBatch(apex: address.group, type, gate).description)
            default:
                break
            }
            let id = ActionID.service(address, step.step)
            emit(Action(id, service: address, payload: step.payload, reason: build.reason, dependsOn: dependsOn))
            previous = id.description
        }
    }
}
