import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// The state of one `Executor.apply` call: the executor's inputs, what earlier runs of the same plan
/// finished (from the journal), and the ACME state shared by concurrent actions. Immutable apart from
/// `acme` (an actor): a value an action learns for a later one (the db directory `create_next` made) travels
/// as the action's journal detail (`RecordedDetails`).
final class ApplyRun: Sendable {
    let executor: Executor
    /// The plan being applied (ACME actions look up their batch in it).
    let plan: Plan?
    /// Clients, accounts and open orders of the ACME actions; safe to use from concurrent actions.
    let acme = ACMERunState()
    /// Action ids the journal shows as done for this plan.
    let alreadyDone: Set<String>
    /// The `ok` details of this plan's actions in earlier runs, by action id.
    let earlierDetails: [String: String]

    var config: Config { executor.config }
    var topdir: String { executor.topdir }
    var now: Date { executor.now }
    var options: ExecutorOptions { executor.options }

    /// The newest `ok` detail of every `acme_order` in the whole journal (any plan), by action id: what a
    /// resumed run reopens its orders from. Read once, when the run starts.
    let recordedOrders: [String: String]

    init(executor: Executor, earlier: [JournalRecord], plan: Plan? = nil, journal: [JournalRecord] = []) {
        self.executor = executor
        self.plan = plan
        var orders: [String: String] = [:]
        for record in journal where record.event == .ok {
            guard let id = record.action, ActionID(id)?.isACMEOrder == true, let detail = record.detail else {
                continue
            }
            orders[id] = detail
        }
        self.recordedOrders = orders
        var done: Set<String> = []
        var details: [String: String] = [:]
        for record in earlier where record.event == .ok {
            guard let id = record.action else { continue }
            done.insert(id)
            if let detail = record.detail { details[id] = detail }
        }
        self.alreadyDone = done
        self.earlierDetails = details
    }

    /// Runs the handler of the action's payload; returns a detail for the report and journal. `recorded`:
    /// the `ok` details of the plan's actions finished so far (earlier runs and this one), by action id.
    func perform(_ action: Action, recorded: [String: String], logger: Logger) async throws -> String? {
        switch action.payload {
        case .createNext: return try createNext(action)
        case .generateKey: return try generateKey(action)
        case .reuseKey: return try reuseKey(action)
        case .createCSR: return try createCSR(action)
        case .signLocal: return try signLocal(action)
        case .writeBundle: return try writeBundle(action)
        case .repairSet(let slot, let rebuild, let modes):
            return try repairSet(action, slot: slot, rebuild: Set(rebuild), modes: modes)
        case .writeServiceTLSA: return try writeServiceTLSA(action, logger: logger)
        case .writeApexTLSA(let apex, let rolling):
            return try writeApexTLSA(apex: apex, rolling: rolling, logger: logger)
        case .publishTLSA(let apex, _): return try publishTLSA(apex: apex)
        case .roll(let next): return try roll(action, next: next, recorded: recorded)
        case .syncServiceProduction(let curr, _): return try syncServiceProduction(action, currExpected: curr)
        case .syncApexTLSA(let apex): return try syncApexProduction(apex: apex)
        case .clean(let remove): return try clean(action, remove: remove, logger: logger)
        case .copyToServer(let host, _): return try await copyToServer(action, host: host, logger: logger)
        case .postCopy(let host, _): return try await postCopy(action, host: host, logger: logger)
        case .restartServer(let section, let host, _):
            return try await restartServer(action, section: section, host: host, logger: logger)
        case .refreshDNS(let domains): return try await refreshDNS(action, domains: domains, logger: logger)
        case .acmeOrder(let order): return try await acmeOrder(action, order, logger: logger)
        case .publishChallenges(let apex, let type, let services, let clear):
            return try await publishChallenges(apex: apex, type: type, services: services, clear: clear, logger: logger)
        case .awaitPropagation(let apex): return try await awaitPropagation(apex: apex, logger: logger)
        case .answerChallenges: return try await answerChallenges(action, logger: logger)
        case .finalizeOrder(_, let preferredChain):
            return try await finalizeOrder(action, preferredChain: preferredChain, logger: logger)
        }
    }

    // MARK: - Shared lookups

    /// The service of a service action, from its `service` field, with its config.
    func service(of action: Action) throws -> (ServiceAddress, ServiceConfig) {
        guard let text = action.service else {
            throw SSLMError(.malformedInput, "action \(action.id) (\(action.kind.rawValue)) names no service")
        }
        guard let address = ServiceAddress(planText: text) else {
            throw SSLMError(
                .malformedInput, "action \(action.id): \"\(SafeName.printable(text))\" is not group/service")
        }
        guard let config = config.service(address) else {
            throw SSLMError(
                .configInvalid, "\(address) is not in the configuration any more: make a new plan")
        }
        return (address, config)
    }

    /// The apex of an apex action, checked to be a safe name (it becomes a path component).
    func checked(apex: String) throws -> String {
        guard SafeName.isSafe(apex) else {
            throw SSLMError(.malformedInput, "\"\(SafeName.printable(apex))\" is not an apex")
        }
        return apex
    }

    /// A path as shown in results: relative to the topdir when inside it.
    func display(_ path: String) -> String {
        path.hasPrefix(topdir + "/") ? String(path.dropFirst(topdir.count + 1)) : path
    }

    func dnsFacts(_ apex: String) -> DNSFacts? {
        options.dnsFacts.first { $0.apex.lowercased() == apex.lowercased() }
    }
}
