import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// Handlers that run programs: copy_to_server, post_copy, restart_server, refresh_dns.
extension ApplyRun {
    /// `rsync -a --delete --mkpath -e ssh <prod>/ <host>:<prod>/`.
    func copyToServer(_ action: Action, logger: Logger) async throws -> String? {
        let host = try hostParam(action)
        guard productionRoot.hasPrefix("/") else {
            throw SSLMError(
                .configInvalid, "prod_cert_dir \(productionRoot) is not absolute: cannot copy it to \(host)")
        }
        let argv = DeployCommands.remoteCopy(
            productionDirectory: productionRoot, host: host, rsync: options.rsyncProgram, ssh: options.sshProgram)
        try await run(argv, timeout: options.commandTimeout, logger: logger)
        return "copied \(productionRoot) to \(host)"
    }

    /// `post_copy_cmd`: `[command, host]`, locally, for every pair of the config naming the action's host.
    /// A failure is reported but not fatal (as in ssl-mgr).
    func postCopy(_ action: Action, logger: Logger) async throws -> String? {
        let host = try hostParam(action)
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

    /// The section's `restart_cmd`s, in order, on the host: directly for this machine, else over ssh.
    /// Stops at the first failing command. Timeout: the section's `restart_timeout`.
    func restartServer(_ action: Action, logger: Logger) async throws -> String? {
        let host = try hostParam(action)
        guard let name = stringParam(action, "section"), let section = config.servers.first(where: { $0.name == name })
        else {
            throw SSLMError(
                .configInvalid, "action \(action.id): no server section \(stringParam(action, "section") ?? "")")
        }
        let local = isLocal(host)
        for argv in section.restartCommands {
            try await run(
                DeployCommands.restart(argv, host: host, isLocal: local, ssh: options.sshProgram),
                timeout: .seconds(section.restartTimeoutSeconds), logger: logger)
        }
        return "\(section.restartCommands.count) commands on \(host)" + (local ? " (local)" : "")
    }

    /// Each `[dns] restart_cmd` with `--serial_bump <domains…>`.
    func refreshDNS(_ action: Action, logger: Logger) async throws -> String? {
        let domains = stringsParam(action, "domains") ?? []
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

    func isLocal(_ host: String) -> Bool {
        let lower = host.lowercased()
        return lower == "localhost" || options.localHostNames.contains { $0.lowercased() == lower }
    }

    private func hostParam(_ action: Action) throws -> String {
        guard let host = stringParam(action, "host"), !host.isEmpty, !host.hasPrefix("-"),
            !host.contains(where: { $0.isWhitespace || $0 == "/" })
        else {
            throw SSLMError(.malformedInput, "action \(action.id): missing or unusable host")
        }
        return host
    }

    /// Runs one argv; throws with the program's failure reason. Output is logged.
    private func run(_ argv: [String], timeout: Duration, logger: Logger) async throws {
        let command = Command(argv, timeout: timeout)
        logger.info("running \(command)")
        let result = await executor.runner.run(command)
        let output = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        if !output.isEmpty { logger.info("output of \(argv.first ?? ""): \(output)") }
        if let reason = result.failureReason {
            throw SSLMError(.ioFailure, "\(command): \(reason)")
        }
    }
}
