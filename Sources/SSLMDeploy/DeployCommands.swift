/// The argv lists sslm runs to deploy: remote copies, restarts, `post_copy_cmd` and the DNS refresh.
///
/// Pure functions (no I/O), so tests and `sslm plan` can show exactly what will run. Every host and path
/// is passed as one argv word; nothing is interpreted by a local shell. Note that `ssh` itself joins the
/// remote argv into one line for the remote shell: restart commands come from the config (trusted),
/// and host names are validated by the config loader.
public enum DeployCommands {
    /// `rsync -a --delete --mkpath -e ssh <prod>/ <host>:<prod>/` (spec §4.6).
    public static func remoteCopy(
        productionDirectory: String, host: String, rsync: String = "rsync",
        ssh: String = "ssh"
    ) -> [String] {
        let root = productionDirectory.hasSuffix("/") ? productionDirectory : productionDirectory + "/"
        return [rsync, "-a", "--delete", "--mkpath", "-e", ssh, root, host + ":" + root]
    }

    /// A restart command on `host`: run directly on the local host, else `ssh <host> argv…` (spec §4.7).
    public static func restart(_ argv: [String], host: String, isLocal: Bool, ssh: String = "ssh") -> [String] {
        isLocal ? argv : [ssh, host] + argv
    }

    /// `post_copy_cmd`: `[command, host]`, run locally.
    public static func postCopy(command: String, host: String) -> [String] { [command, host] }

    /// `[dns] restart_cmd`: `argv… --serial_bump <domains…>` (ssl-mgr's spelling, with the underscore).
    public static func dnsRefresh(_ argv: [String], domains: [String]) -> [String] {
        argv + ["--serial_bump"] + domains
    }
}
