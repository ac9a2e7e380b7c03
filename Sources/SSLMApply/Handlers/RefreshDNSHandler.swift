import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// `refresh_dns`: each `[dns] restart_cmd` for the zones (after TLSA changes, or around ACME dns-01
/// challenges).
struct RefreshDNSHandler: ActionHandler {
    static let kind = ActionKind.refreshDNS

    static func payload(of payload: ActionPayload) throws -> [String] {
        guard case .refreshDNS(let domains) = payload else { throw mismatch(payload) }
        return domains
    }

    func perform(_ domains: [String], of action: Action, in context: ActionContext) async throws -> String? {
        try await context.run.refreshDNS(action, domains: domains, logger: context.logger)
    }
}

extension ApplyRun {
    /// Each `[dns] restart_cmd` with `--serial_bump <domains…>`.
    fileprivate func refreshDNS(_ action: Action, domains: [String], logger: Logger) async throws -> String? {
        // Only the config's own group domains ever reach the command (a plan is checked by re-planning
        // before it gets here; this keeps the executor safe on its own).
        let configured = Set(config.groups.map { $0.domain.lowercased() })
        if let stranger = domains.first(where: { !configured.contains($0.lowercased()) || !SafeName.isSafe($0) }) {
            throw SSLMError(
                .malformedInput,
                "action \(action.id): \"\(SafeName.printable(stranger))\" is not a group domain of the configuration")
        }
        guard !config.dns.restartCommands.isEmpty else {
            throw SSLMError(
                .configInvalid, "[dns] restart_cmd is empty: cannot refresh \(domains.joined(separator: ", "))")
        }
        for argv in config.dns.restartCommands {
            try await run(
                DeployCommands.dnsRefresh(argv, domains: domains), timeout: options.commandTimeout,
                logger: logger)
        }
        return "refreshed " + domains.joined(separator: ", ")
    }
}
