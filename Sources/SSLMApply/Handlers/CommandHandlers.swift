import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// Handlers that run programs: copy_to_server, post_copy, restart_server, refresh_dns.
extension ApplyRun {
    /// `rsync -a --delete --mkpath -e '<ssh> [-F <ssh_config>]' <prod>/ <host>:<prod>/`.
    func copyToServer(_ action: Action, host: String, logger: Logger) async throws -> String? {
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

    /// `post_copy_cmd`: `[command, host]`, locally, for every pair of the config naming the action's host.
    /// A failure is reported but not fatal (as in ssl-mgr).
    func postCopy(_ action: Action, host: String, logger: Logger) async throws -> String? {
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

    /// The section's `restart_cmd`s, in order, on the host: directly for this machine, else over ssh.
    /// Stops at the first failing command. Timeout: the section's `restart_timeout`.
    func restartServer(_ action: Action, section name: String, host: String, logger: Logger) async throws
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

    /// Each `[dns] restart_cmd` with `--serial_bump <domains…>`.
    func refreshDNS(_ action: Action, domains: [String], logger: Logger) async throws -> String? {
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

    func isLocal(_ host: String) -> Bool {
        let lower = host.lowercased()
        return lower == "localhost" || options.localHostNames.contains { $0.lowercased() == lower }
    }

    /// The action's host: one named in a server section of the config, or for `post_copy` in
    /// `post_copy_cmd` (a plan is checked by re-planning before it gets here; this keeps the executor safe
    /// on its own).
    private func checked(host: String, of action: Action, postCopy: Bool) throws -> String {
        guard !host.isEmpty, !host.hasPrefix("-"),
            !host.contains(where: { $0.isWhitespace || $0 == "/" })
        else {
            throw SSLMError(.malformedInput, "action \(action.id): missing or unusable host")
        }
        let known =
            postCopy
            ? config.globals.postCopyCommands.contains { $0.host == host }
            : config.servers.contains { $0.servers.contains(host) }
        guard known else {
            throw SSLMError(
                .malformedInput, "action \(action.id): \(SafeName.printable(host)) is not a server of the configuration"
            )
        }
        return host
    }

    /// A reason that leads with ssh's message when a copy or remote restart failed because of ssh (not
    /// reachable, key refused, unknown host key), instead of the program's last line. rsync reports such a
    /// failure as status 255 or 12 depending on timing, and its own lines start with `rsync`: any other
    /// line is ssh's (or the remote shell's, e.g. rsync missing there). ssh exits 255 for its own failures.
    /// Nil when there is nothing better to say.
    private func sshFailure(of result: CommandResult, host: String, via program: SSHClient) -> String? {
        guard case .exited(let status) = result.termination, status != 0 else { return nil }
        let lines = result.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        let check =
            DeployCommands.ssh(options.sshProgram, config: config.globals.sshConfig).joined(separator: " ")
            + " \(host) true"
        if program == .rsync {
            guard let message = lines.first(where: { !$0.hasPrefix("rsync") }) else { return nil }
            return "could not copy to \(host): \(message.prefix(300)) (rsync exited with status \(status)); check "
                + "that \(host) is reachable, accepts this machine's key and has rsync (`\(check)` must succeed "
                + "without a prompt)"
        }
        guard status == 255 else { return nil }
        return "could not reach \(host) over ssh: \((lines.last ?? "no output").prefix(300)) (ssh exited with status "
            + "255); check that \(host) is reachable and accepts this machine's key (`\(check)` must succeed "
            + "without a prompt)"
    }

    /// The program that talked to ssh: rsync (a copy) or ssh itself (a remote restart).
    enum SSHClient { case rsync, ssh }

    /// Runs one argv with the command timeout; throws with the program's failure reason.
    func runCommand(_ argv: [String], logger: Logger) async throws {
        try await run(argv, timeout: options.commandTimeout, logger: logger)
    }

    /// Runs one argv; throws with the program's failure reason (`explain`'s, when it has one). Output is
    /// logged.
    private func run(
        _ argv: [String], timeout: Duration, logger: Logger,
        explain: (CommandResult) -> String? = { _ in nil }
    ) async throws {
        let command = Command(argv, timeout: timeout)
        logger.info("running \(command)")
        let result = await executor.runner.run(command)
        let output = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        if !output.isEmpty { logger.info("output of \(argv.first ?? ""): \(output)") }
        if let reason = result.failureReason {
            throw SSLMError(.ioFailure, "\(command): \(explain(result) ?? reason)")
        }
    }
}
