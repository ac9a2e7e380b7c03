import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// What the handlers that run programs share (copy_to_server, post_copy, restart_server, refresh_dns, and the
/// ACME http-01 copies): host checks, ssh failure messages, running an argv.
extension ApplyRun {
    func isLocal(_ host: String) -> Bool {
        let lower = host.lowercased()
        return lower == "localhost" || options.localHostNames.contains { $0.lowercased() == lower }
    }

    /// The action's host: one named in a server section of the config, or for `post_copy` in
    /// `post_copy_cmd` (a plan is checked by re-planning before it gets here; this keeps the executor safe
    /// on its own).
    func checked(host: String, of action: Action, postCopy: Bool) throws -> String {
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
    func sshFailure(of result: CommandResult, host: String, via program: SSHClient) -> String? {
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
    func run(
        _ argv: [String], timeout: Duration, logger: Logger, input: String? = nil,
        explain: (CommandResult) -> String? = { _ in nil }
    ) async throws {
        let command = Command(argv, timeout: timeout, input: input.map { Array($0.utf8) })
        logger.info("running \(command)")
        let result = await executor.runner.run(command)
        let output = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        if !output.isEmpty { logger.info("output of \(argv.first ?? ""): \(output)") }
        if let reason = result.failureReason {
            throw SSLMError(.ioFailure, "\(command): \(explain(result) ?? reason)")
        }
    }
}
