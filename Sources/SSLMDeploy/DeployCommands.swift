import SSLMCore

/// The argv lists sslm runs to deploy: remote copies, restarts, `post_copy_cmd` and the DNS refresh.
///
/// Pure functions (no I/O), so tests and `sslm plan` can show exactly what will run. Every host and path
/// is passed as one argv word; nothing is interpreted by a local shell. Two programs do split a word
/// themselves, and the builders account for it: `rsync` splits its `-e` command at spaces (so the ssh
/// program and `ssh_config` path must not contain spaces or quotes, see `rsyncRemoteShell`), and `ssh`
/// joins the remote argv into one line for the remote shell (restart commands come from the config,
/// which is trusted, and host names are validated by the config loader).
public enum DeployCommands {
    /// How ssh is started: `<ssh> [-F <config>]`. `config` is `[globals] ssh_config` (nil: ssh's defaults).
    public static func ssh(_ program: String = "ssh", config: String? = nil) -> [String] {
        [program] + (config.map { ["-F", $0] } ?? [])
    }

    /// The value of rsync's `-e`: `<ssh> [-F <config>]` as one string.
    ///
    /// rsync splits this string itself, at spaces, and gives `'` and `"` a quoting meaning; it is not a
    /// shell, and a word containing either would be split or unquoted differently from what was meant.
    /// So a program or config path containing white space or a quote is refused with an error (move the
    /// file) rather than escaped.
    public static func rsyncRemoteShell(ssh program: String = "ssh", config: String? = nil) throws -> String {
        let words = ssh(program, config: config)
        if let config, !isSafeRsyncWord(config) {
            throw SSLMError(
                .configInvalid,
                "ssh_config \(config) contains white space or a quote: rsync splits its -e command (ssh -F FILE) "
                    + "at spaces, so the path cannot be passed to it safely; move the file to a path without "
                    + "spaces or quotes and set ssh_config to it")
        }
        if !isSafeRsyncWord(program) {
            throw SSLMError(
                .configInvalid,
                "the ssh program \(program) contains white space or a quote: rsync splits its -e command at "
                    + "spaces; use a path without spaces or quotes")
        }
        return words.joined(separator: " ")
    }

    /// `rsync -a --delete --mkpath -e '<ssh> [-F <config>]' <prod>/ <host>:<prod>/` (spec §4.6): the
    /// whole production tree, to the same path on `host`. Throws when `rsyncRemoteShell` does.
    public static func remoteCopy(
        productionDirectory: String, host: String, rsync: String = "rsync", ssh: String = "ssh",
        sshConfig: String? = nil
    ) throws -> [String] {
        let root = productionDirectory.hasSuffix("/") ? productionDirectory : productionDirectory + "/"
        let remoteShell = try rsyncRemoteShell(ssh: ssh, config: sshConfig)
        return [rsync, "-a", "--delete", "--mkpath", "-e", remoteShell, root, host + ":" + root]
    }

    /// A restart command on `host`: run directly on the local host, else `<ssh> [-F <config>] <host> argv…`
    /// (spec §4.7).
    public static func restart(
        _ argv: [String], host: String, isLocal: Bool, ssh program: String = "ssh", sshConfig: String? = nil
    ) -> [String] {
        isLocal ? argv : ssh(program, config: sshConfig) + [host] + argv
    }

    /// `post_copy_cmd`: `[command, host]`, run locally.
    public static func postCopy(command: String, host: String) -> [String] { [command, host] }

    /// `[dns] restart_cmd`: `argv… --serial_bump <domains…>` (ssl-mgr's spelling, with the underscore).
    public static func dnsRefresh(_ argv: [String], domains: [String]) -> [String] {
        argv + ["--serial_bump"] + domains
    }

    /// Not empty, and nothing rsync's `-e` splitter treats specially (white space, `'`, `"`).
    private static func isSafeRsyncWord(_ word: String) -> Bool {
        !word.isEmpty && !word.contains { $0.isWhitespace || $0 == "'" || $0 == "\"" }
    }
}
