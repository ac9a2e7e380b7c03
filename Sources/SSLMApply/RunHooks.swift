import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMObserve
import SSLMPlan

/// `[hooks]`: after `sslm apply`, `deploy_cmd` runs once when production changed, `failure_cmd` once when
/// actions failed or services are blocked (Docs/hooks.md). Each gets a JSON document on standard input and
/// `SSLM_CHANGED`, `SSLM_PRODUCTION_DIR`, `SSLM_TOPDIR`, `SSLM_RUN_STATUS` in its environment; it runs as
/// an argv list with the `[hooks] timeout`. A failing hook is logged and reported; it never undoes the run.
public enum RunHooks {
    /// The version of the JSON document on a hook's standard input.
    public static let documentVersion = 1

    /// What one run did, for the hooks.
    public struct RunSummary: Sendable {
        public var status: String
        /// Per changed service: what changed (`renewed`, `rolled`, `production`, `tlsa`).
        public var changed: [(service: ServiceAddress, changes: [String])]
        /// Failed actions: id, service (if any), reason, and since when they fail (RFC 3339; nil: this run).
        public var failures: [(id: String, service: String?, reason: String, since: String?)]
        public var blocked: [(subject: String, reason: String)]
    }

    /// The summary of `report` (nil: nothing ran) for `plan` and its blocked notes. `failingSince`: for a
    /// failed action, when its failures began (`failingSince(topdir:)`); else this run's time is used.
    public static func summarize(
        plan: Plan, report: ApplyReport?, blocked: [Note], failingSince: [String: String] = [:]
    ) -> RunSummary {
        var changes: [ServiceAddress: [String]] = [:]
        var order: [ServiceAddress] = []
        func note(_ address: ServiceAddress, _ change: String) {
            if changes[address] == nil { order.append(address) }
            if changes[address]?.contains(change) != true { changes[address, default: []].append(change) }
        }
        for result in report?.results ?? [] where result.outcome.isSuccess {
            guard let action = plan.action(result.id) else { continue }
            let change: String? =
                switch action.kind {
                case .signLocal, .finalizeOrder: "renewed"
                case .roll: "rolled"
                case .syncProduction: "production"
                default: nil
                }
            if let change, let address = action.service.flatMap(ServiceAddress.init(planText:)) {
                note(address, change)
            }
            if action.kind == .publishTLSA, let apex = ActionID(action.id)?.apex {
                // The services of the apex whose records this run wrote.
                for written in plan.actions where written.kind == .writeTLSA {
                    if let address = written.service.flatMap(ServiceAddress.init(planText:)), address.group == apex {
                        note(address, "tlsa")
                    }
                }
            }
        }
        let failures = (report?.failures ?? []).map { failure in
            (
                id: failure.id, service: plan.action(failure.id)?.service, reason: failure.reason,
                since: failingSince[failure.id]
            )
        }
        let status = !blocked.isEmpty ? "blocked" : failures.isEmpty ? "ok" : "failed"
        return RunSummary(
            status: status, changed: order.map { ($0, changes[$0] ?? []) }, failures: failures,
            blocked: blocked.map { ($0.subject, $0.reason.message) })
    }

    /// Runs the hooks that apply to `summary`; returns one line per hook that failed (for the run's output).
    public static func run(
        _ summary: RunSummary, config: Config, now: Date, logger: Logger,
        runner: any CommandRunner = ProcessCommandRunner()
    ) async -> [String] {
        var problems: [String] = []
        let production = summary.changed.contains { $0.changes.contains("production") }
        let failed = summary.status != "ok"
        for (name, argv, due) in [
            ("deploy_cmd", config.hooks.deployCommand, production),
            ("failure_cmd", config.hooks.failureCommand, failed),
        ] {
            guard let argv, due else { continue }
            let command = Command(
                argv, timeout: .seconds(config.hooks.timeoutSeconds),
                input: document(summary, config: config, now: now),
                environment: environment(summary, config: config))
            logger.info("hook \(name): \(command)")
            let result = await runner.run(command)
            if result.succeeded {
                logger.info("hook \(name) finished")
            } else {
                let line = "[hooks] \(name) (\(command)) \(result.termination): \(result.output.suffix(400))"
                logger.error("\(line)")
                problems.append(line)
            }
        }
        return problems
    }

    static func environment(_ summary: RunSummary, config: Config) -> [String: String] {
        [
            "SSLM_CHANGED": summary.changed.map(\.service.description).joined(separator: " "),
            "SSLM_PRODUCTION_DIR": config.globals.prodCertDir,
            "SSLM_TOPDIR": config.topdir,
            "SSLM_RUN_STATUS": summary.status,
        ]
    }

    /// The JSON document on a hook's standard input (sorted keys).
    static func document(_ summary: RunSummary, config: Config, now: Date) -> [UInt8] {
        let production = config.globals.prodCertDir
        let services: [[String: Any]] = summary.changed.map { service, changes in
            let curr = ProductionLayout.serviceDirectory(prodRoot: production, address: service) + "/curr"
            return [
                "service": service.description, "changed": changes,
                "production": [
                    "directory": curr, "cert": curr + "/cert.pem", "key": curr + "/privkey.pem",
                    "chain": curr + "/chain.pem", "fullchain": curr + "/fullchain.pem",
                ],
            ]
        }
        let object: [String: Any] = [
            "version": documentVersion, "topdir": config.topdir, "time": Timestamps.rfc3339(now),
            "status": summary.status, "production_dir": production, "services": services,
            "failures": summary.failures.map { failure in
                [
                    "action": failure.id, "service": failure.service ?? "", "reason": failure.reason,
                    "since": failure.since ?? Timestamps.rfc3339(now),
                ]
            },
            "blocked": summary.blocked.map { ["subject": $0.subject, "reason": $0.reason] },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Array(data) + [10]
    }
}

extension RunHooks {
    /// Per action id: the time of the first `failed` journal record after its last `ok` — since when the
    /// action has been failing, over runs (any plan).
    public static func failingSince(topdir: String) -> [String: String] {
        var since: [String: String] = [:]
        try? Journal.forEachRecord(topdir: topdir) { record in
            guard let id = record.action else { return }
            switch record.event {
            case .ok: since[id] = nil
            case .failed: if since[id] == nil { since[id] = record.time }
            default: break
            }
        }
        return since
    }
}
