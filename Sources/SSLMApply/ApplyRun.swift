import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// The state of one `Executor.apply` call: the executor's inputs, what earlier runs of the same plan
/// finished (from the journal), and values learnt while applying (the db directory `create_next` made).
/// Only the ACME kinds (`ActionKind.runsConcurrently`) run concurrently; they use `acme`, never
/// `createdNext`.
final class ApplyRun: @unchecked Sendable {
    let executor: Executor
    /// The plan being applied (ACME actions look up their batch in it).
    let plan: Plan?
    /// Clients, accounts and open orders of the ACME actions; safe to use from concurrent actions.
    let acme = ACMERunState()
    /// Action ids the journal shows as done for this plan.
    let alreadyDone: Set<String>
    /// db directory created by `create_next` per service, in this run or an earlier run of the plan.
    var createdNext: [ServiceAddress: String] = [:]

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
            guard let id = record.action, id.hasSuffix("/next/order"), let detail = record.detail else { continue }
            orders[id] = detail
        }
        self.recordedOrders = orders
        var done: Set<String> = []
        for record in earlier where record.event == .ok {
            guard let id = record.action else { continue }
            done.insert(id)
        }
        self.alreadyDone = done
        // `create_next` records `db/<name>`; its action id is `<group>/<service>/next/dir`.
        for record in earlier where record.event == .ok {
            guard let id = record.action, id.hasSuffix("/next/dir"), let detail = record.detail,
                detail.hasPrefix("db/")
            else { continue }
            let parts = id.split(separator: "/").map(String.init)
            guard parts.count == 4 else { continue }
            createdNext[ServiceAddress(group: parts[0], service: parts[1])] = String(detail.dropFirst(3))
        }
    }

    /// Runs the handler of `action.kind`; returns a detail for the report and journal.
    func perform(_ action: Action, logger: Logger) async throws -> String? {
        switch action.kind {
        case .createNext: return try createNext(action)
        case .generateKey: return try generateKey(action)
        case .reuseKey: return try reuseKey(action)
        case .createCSR: return try createCSR(action)
        case .signLocal: return try signLocal(action)
        case .writeBundle: return try writeBundle(action)
        case .repairSet: return try repairSet(action)
        case .writeTLSA:
            return action.service == nil
                ? try writeApexTLSA(action, logger: logger) : try writeServiceTLSA(action, logger: logger)
        case .publishTLSA: return try publishTLSA(action)
        case .roll: return try roll(action)
        case .syncProduction:
            return action.service == nil ? try syncApexProduction(action) : try syncServiceProduction(action)
        case .clean: return try clean(action, logger: logger)
        case .copyToServer: return try await copyToServer(action, logger: logger)
        case .postCopy: return try await postCopy(action, logger: logger)
        case .restartServer: return try await restartServer(action, logger: logger)
        case .refreshDNS: return try await refreshDNS(action, logger: logger)
        case .acmeOrder: return try await acmeOrder(action, logger: logger)
        case .publishChallenges: return try await publishChallenges(action, logger: logger)
        case .awaitPropagation: return try await awaitPropagation(action, logger: logger)
        case .answerChallenges: return try await answerChallenges(action, logger: logger)
        case .finalizeOrder: return try await finalizeOrder(action, logger: logger)
        }
    }

    // MARK: - Shared lookups

    /// The service of a service action, from its `service` field, with its config.
    func service(of action: Action) throws -> (ServiceAddress, ServiceConfig) {
        guard let text = action.service, let slash = text.firstIndex(of: "/") else {
            throw SSLMError(.malformedInput, "action \(action.id) (\(action.kind.rawValue)) names no service")
        }
        let address = ServiceAddress(
            group: String(text[..<slash]), service: String(text[text.index(after: slash)...]))
        guard SafeName.isSafe(address.group), SafeName.isSafe(address.service) else {
            throw SSLMError(
                .malformedInput, "action \(action.id): \"\(SafeName.printable(text))\" is not group/service")
        }
        guard let config = config.service(address) else {
            throw SSLMError(
                .configInvalid, "\(address) is not in the configuration any more: make a new plan")
        }
        return (address, config)
    }

    /// The apex of an apex action: the first component of its id (`<apex>/tlsa`, `<apex>/prod`).
    func apex(of action: Action) throws -> String {
        guard let first = action.id.split(separator: "/").first.map(String.init), SafeName.isSafe(first) else {
            throw SSLMError(.malformedInput, "action \(action.id): no apex in its id")
        }
        return first
    }

    func stringParam(_ action: Action, _ name: String) -> String? {
        if case .string(let value)? = action.params[name] { return value }
        return nil
    }

    func stringsParam(_ action: Action, _ name: String) -> [String]? {
        if case .strings(let value)? = action.params[name] { return value }
        return nil
    }

    func boolParam(_ action: Action, _ name: String) -> Bool? {
        if case .bool(let value)? = action.params[name] { return value }
        return nil
    }

    /// A path as shown in results: relative to the topdir when inside it.
    func display(_ path: String) -> String {
        path.hasPrefix(topdir + "/") ? String(path.dropFirst(topdir.count + 1)) : path
    }

    func dnsFacts(_ apex: String) -> DNSFacts? {
        options.dnsFacts.first { $0.apex.lowercased() == apex.lowercased() }
    }
}
