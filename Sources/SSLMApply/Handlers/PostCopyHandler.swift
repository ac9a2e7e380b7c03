import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// `post_copy`: the host's `post_copy_cmd`s (from the config); a failure does not stop its dependents.
struct PostCopyHandler: ActionHandler {
    static let kind = ActionKind.postCopy

    static func payload(of payload: ActionPayload) throws -> String {
        guard case .postCopy(let host, _) = payload else { throw mismatch(payload) }
        return host
    }

    func perform(_ host: String, of action: Action, in context: ActionContext) async throws -> String? {
        try await context.run.postCopy(action, host: host, logger: context.logger)
    }
}

extension ApplyRun {
    /// `post_copy_cmd`: `[command, host]`, locally, for every pair of the config naming the action's host.
    /// A failure is reported but not fatal (as in ssl-mgr).
    fileprivate func postCopy(_ action: Action, host: String, logger: Logger) async throws -> String? {
        let host = try checked(host: host, of: action, postCopy: true)
        let commands = config.globals.postCopyCommands.filter { $0.host == host }
        guard !commands.isEmpty else {
            throw NonFatalFailure(reason: "post_copy_cmd has no entry for \(host) any more: make a new plan")
        }
        do {
            for pair in commands {
                try await run(
                    DeployCommands.postCopy(command: pair.command, host: host),
                    timeout: options.commandTimeout, logger: logger)
            }
        } catch {
            throw NonFatalFailure(reason: Executor.describe(error))
        }
        return nil
    }
}
