import SSLMCore

/// `[globals]` of ssl-mgr.conf, with defaults applied and paths made absolute.
public struct Globals: Sendable, Hashable {
    public var verbose: Bool = false
    public var prodCertDir: String
    public var logDir: String
    /// Old dated db directories kept per service (≥ 1).
    public var cleanKeep: Int = 10
    /// Minimum age of `next`, in minutes, before a roll.
    public var minRollMinutes: Int = 90
    /// `dane_roll_stuck_hours` (sslm): a DANE roll that has waited this long for its TLSA records is
    /// reported as stuck (`roll_stuck`: `status` exits 1, the metrics carry the waiting time).
    public var daneRollStuckHours: Int = 24
    /// `dane_roll_deadline_days` (sslm): when curr expires within this many days, a DANE roll that still
    /// waits for its TLSA records goes ahead without them (`roll_deadline`, with a warning): an expired
    /// certificate breaks every client, a missing TLSA record only DANE-validating ones. 0 = never.
    public var daneRollDeadlineDays: Int = 3
    /// Seconds to wait before the first DNS propagation check (sslm polls actively; default 0).
    public var dnsCheckDelaySeconds: Int = 0
    /// Extra nameservers that must also serve the primary's data before a dns-01 answer or a roll.
    public var dnsExtraNameservers: [NameserverAddress]
    /// `post_copy_cmd`: after a production copy, run `command host` locally for each pair.
    public var postCopyCommands: [PostCopyCommand] = []
    /// `ssh_config` (sslm): an ssh client config file (`ssh -F`) for copies and restarts on other hosts,
    /// e.g. to use a dedicated key and known_hosts file. nil = ssh's defaults (~/.ssh/config).
    public var sshConfig: String?
    /// `retire_orphans` (sslm): every `sslm apply` retires what left the config (a service or group removed
    /// from `conf.d/`), as `sslm apply --retire` does: production copy removed, TLSA records withdrawn, the
    /// certs directory archived under `certs/.retired/`. Never revokes (that takes `--retire --revoke`).
    /// false (default): `plan` and `apply` only note such orphans.
    public var retireOrphans: Bool = false

    public static let defaultProdCertDir = "/etc/ssl-mgr/prod-certs"
    public static let defaultLogDir = "/var/log/ssl-mgr"
    public static let defaultExtraNameservers = ["1.1.1.1", "8.8.8.8", "9.9.9.9", "208.67.222.222"]
}

/// One `post_copy_cmd` pair: `[host, command]`; run as argv `[command, host]`.
public struct PostCopyCommand: Sendable, Hashable {
    public var host: String
    public var command: String

    public init(host: String, command: String) {
        self.host = host
        self.command = command
    }
}
