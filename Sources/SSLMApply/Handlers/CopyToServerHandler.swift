import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// `copy_to_server`: the production tree copied to a host with rsync over ssh.
struct CopyToServerHandler: ActionHandler {
    static let kind = ActionKind.copyToServer

    static func payload(of payload: ActionPayload) throws -> String {
        guard case .copyToServer(let host, _) = payload else { throw mismatch(payload) }
        return host
    }

    func perform(_ host: String, of action: Action, in context: ActionContext) async throws -> String? {
        try await context.run.copyToServer(action, host: host, logger: context.logger)
    }
}

extension ApplyRun {
    /// `rsync -a --delete --mkpath -e '<ssh> [-F <ssh_config>]' <prod>/ <host>:<prod>/`.
    fileprivate func copyToServer(_ action: Action, host: String, logger: Logger) async throws -> String? {
        let host = try checked(host: host, of: action, postCopy: false)
        guard productionRoot.hasPrefix("/") else {
            throw SSLMError(
                .configInvalid, "prod_cert_dir \(productionRoot) is not absolute: cannot copy it to \(host)")
        }
        let argv = try DeployCommands.remoteCopy(
            productionDirectory: productionRoot, host: host, rsync: options.rsyncProgram, ssh: options.sshProgram,
            sshConfig: config.globals.sshConfig)
        try await run(argv, timeout: options.commandTimeout, logger: logger) { result in
            self.sshFailure(of: result, host: host, via: .rsync)
        }
        return "copied \(productionRoot) to \(host)"
    }
}
