import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPKI
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
    /// The `ok` details of this plan's actions in earlier runs whose kind shares them (`ResumeRule`), by
    /// action id.
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
        let kinds = Dictionary(plan?.actions.map { ($0.id, $0.kind) } ?? [], uniquingKeysWith: { first, _ in first })
        for record in earlier where record.event == .ok {
            guard let id = record.action else { continue }
            done.insert(id)
            if let detail = record.detail, let kind = kinds[id], ActionHandlers.sharesDetail(kind) {
                details[id] = detail
            }
        }
        self.alreadyDone = done
        self.earlierDetails = details
    }

    /// Runs the action with its kind's handler (`ActionHandlers`); returns a detail for the report and
    /// journal. `recorded`: the shared details of the plan's actions finished so far (earlier runs and this
    /// one), by action id (`ResumeRule`).
    func perform(_ action: Action, recorded: [String: String], logger: Logger) async throws -> String? {
        let context = ActionContext(run: self, recorded: recorded, logger: logger)
        return try await ActionHandlers.handler(for: action.kind).handle(action, in: context)
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

    /// `[globals] prod_cert_dir`.
    var productionRoot: String { config.globals.prodCertDir }

    /// The role of a service's certificate: a CA for the `ca` group, else a leaf.
    static func role(of address: ServiceAddress) -> CertificateRole {
        address.group.lowercased() == GroupConfig.caGroup ? .certificateAuthority : .leaf
    }

    func dnsFacts(_ apex: String) -> DNSFacts? {
        options.dnsFacts.first { $0.apex.lowercased() == apex.lowercased() }
    }
}
