import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// `restart_server`: a server section's `restart_cmd`s on one host (from the config; the payload's
/// commands describe them). Restarts of different hosts run at the same time (`ActionConcurrency.perHost`).
struct RestartServerHandler: ActionHandler {
    static let kind = ActionKind.restartServer

    /// The server section (its `restart_cmd`s come from the config) and the host.
    typealias Payload = (section: String, host: String)

    static func payload(of payload: ActionPayload) throws -> Payload {
        guard case .restartServer(let section, let host, _) = payload else { throw mismatch(payload) }
        return (section, host)
    }

    func perform(_ payload: Payload, of action: Action, in context: ActionContext) async throws -> String? {
        try await context.run.restartServer(
            action, section: payload.section, host: payload.host, logger: context.logger)
    }
}

extension ApplyRun {
    /// The section's `restart_cmd`s, in order, on the host: directly for this machine, else over ssh.
    /// Stops at the first failing command. Timeout: the section's `restart_timeout`.
    fileprivate func restartServer(_ action: Action, section name: String, host: String, logger: Logger) async throws
        -> String?
    {
        let host = try checked(host: host, of: action, postCopy: false)
        guard let section = config.servers.first(where: { $0.name == name }) else {
            throw SSLMError(.configInvalid, "action \(action.id): no server section \(name)")
        }
        let local = isLocal(host)
        for argv in section.restartCommands {
            try await run(
                DeployCommands.restart(
                    argv, host: host, isLocal: local, ssh: options.sshProgram, sshConfig: config.globals.sshConfig),
                timeout: .seconds(section.restartTimeoutSeconds), logger: logger
            ) { result in
                local ? nil : self.sshFailure(of: result, host: host, via: .ssh)
            }
        }
        return "\(section.restartCommands.count) commands on \(host)" + (local ? " (local)" : "")
    }
}
