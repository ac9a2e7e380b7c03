import Foundation
import SSLMConfig
import SSLMCore

/// Whether a service's production copy is updated in this run, why, and which sets it then holds; with
/// the notes about CA private keys ssl-mgr left there. `reason` is nil when production stays.
struct ProductionDecision {
    var reason: Reason?
    /// Whether production holds curr (and next) after the run.
    var curr: Bool
    var next: Bool
    var notes: [Note] = []

    /// `decided`: the service's decision so far (curr repair, build, roll).
    static func decide(
        _ decided: ServiceDecision, state: ServiceState, currAfterRun: Bool, nextAfterRun: Bool,
        context: PlanningContext
    ) -> ProductionDecision {
        var decision = ProductionDecision(curr: currAfterRun, next: nextAfterRun)
        if decided.changesCurr {
            decision.reason = Reason(.productionChanged, "curr changes in this run")
        } else if decided.buildsNext {
            decision.reason = Reason(.productionChanged, "next changes in this run")
        } else if decided.rebuildsCurr {
            decision.reason = Reason(
                .productionChanged, "curr is repaired in this run: production takes the repaired set")
        } else {
            decision.reason = decision.driftReason(decided.address, state: state, context: context)
        }
        return decision
    }

    /// Why production differs from what it should hold (files, modes, leftovers), or the forced copy;
    /// records the legacy CA key notes on the way.
    private mutating func driftReason(_ address: ServiceAddress, state: ServiceState, context: PlanningContext)
        -> Reason?
    {
        let certsPath = "certs/\(address.group)/\(address.service)"
        let prodPath = context.display(context.config.globals.prodCertDir) + "/\(address.group)/\(address.service)"
        let prod = context.observation.production.service(address)
        let currDir = state.dbDir(state.curr)
        let nextDir = state.dbDir(state.next)
        let usableCurr = curr ? currDir.map { ProductionFileRule.productionFiles($0.files, group: address.group) } : nil
        let nextFiles = nextDir.map { ProductionFileRule.productionFiles($0.files, group: address.group) }
        // ssl-mgr copied local CAs' private keys to production; sslm never does, and does not count such
        // a copy (identical to certs/) as drift: it says so in a note instead.
        let prodCurr = withoutLegacyCAKeys(
            prod?.curr, certs: currDir?.files, address: address, prodPath: prodPath + "/curr")
        let prodNext = withoutLegacyCAKeys(
            prod?.next, certs: nextDir?.files, address: address, prodPath: prodPath + "/next")
        if let difference = ServiceChecks.productionDifference(
            expected: usableCurr, actual: usableCurr == nil ? nil : prodCurr,
            certsPath: certsPath + "/curr", prodPath: prodPath + "/curr")
            ?? ServiceChecks.productionDifference(
                expected: nextFiles, actual: prodNext, certsPath: certsPath + "/next", prodPath: prodPath + "/next")
        {
            return Reason(.productionDrift, difference)
        }
        if let drift = Self.modeDrift(prod, group: address.group) {
            let wanted = ProductionFileRule.modeText(
                ProductionFileRule.mode(fileName: (drift.file as NSString).lastPathComponent))
            return Reason(.productionDrift, "\(prodPath)/\(drift.file) has mode \(drift.mode); sslm sets \(wanted)")
        }
        if let leftover = prod?.leftovers?.first {
            return Reason(
                .productionDrift,
                "\(prodPath)/\(leftover) was left by an interrupted run (it may hold an old key): removing it")
        }
        if context.request.forceProductionSync && curr {
            return Reason(.forced, "certs-to-prod: copying \(certsPath) to production although nothing differs")
        }
        return nil
    }

    /// The first production file (`curr/<file>` or `next/<file>`) whose mode is not the one sslm sets,
    /// among the files sslm puts there (a legacy CA key copy is left to its note).
    private static func modeDrift(_ prod: ProductionServiceState?, group: String) -> (file: String, mode: String)? {
        guard let drift = prod?.modeDrift else { return nil }
        for file in drift.keys.sorted()
        where ProductionFileRule.includes(fileName: (file as NSString).lastPathComponent, group: group) {
            if let mode = drift[file] { return (file, mode) }
        }
        return nil
    }

    /// Production files of a local CA without the private key files ssl-mgr copied there, when they are
    /// identical to the ones in `certs/` (a note names them); anything else is left for the comparison.
    private mutating func withoutLegacyCAKeys(
        _ files: [String: String]?, certs: [String: String]?, address: ServiceAddress, prodPath: String
    ) -> [String: String]? {
        guard var files, address.group.lowercased() == GroupConfig.caGroup, let certs else { return files }
        let legacy = ProductionFileRule.caPrivateFiles.sorted().filter { name in
            files[name] != nil && files[name] == certs[name]
        }
        guard !legacy.isEmpty else { return files }
        for name in legacy { files[name] = nil }
        notes.append(
            Note(
                subject: address.description,
                reason: Reason(
                    .caKeyInProduction,
                    "\(legacy.map { prodPath + "/" + $0 }.joined(separator: " and ")): the CA's private key, copied to production "
                        + "by ssl-mgr; sslm never copies CA keys. Delete it there (and on the servers) once nothing reads it; "
                        + "sslm's next production update of this CA drops it")))
        return files
    }
}
