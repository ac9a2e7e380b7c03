import SSLMACME
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings of an `Executor` that do not come from the config: waits, timeouts, program names and the
/// facts the plan was made with.
public struct ExecutorOptions: Sendable {
    /// How long `apply` waits for another sslm holding `<topdir>/.sslm/lock` before failing.
    public var lockTimeout: Duration = .seconds(60)
    /// The topdir's lock when the caller took it itself, before it observed the state the plan was made
    /// from (the CLI does): `apply` then runs under it instead of taking the lock again, and does not
    /// release it. Must be the lock of the executor's topdir.
    public var heldLock: ApplyLock?
    /// Timeout of `rsync` (copy_to_server), `post_copy_cmd` and `[dns] restart_cmd` commands. Restart
    /// commands use their section's `restart_timeout`.
    public var commandTimeout: Duration = .seconds(600)
    /// `rsync` and `ssh` programs (names looked up in PATH, or paths).
    public var rsyncProgram = "rsync"
    public var sshProgram = "ssh"
    /// Names under which this machine is "local" for server tables: restart commands for these hosts run
    /// directly, not over ssh. `localhost` always counts.
    public var localHostNames: [String] = ExecutorOptions.systemHostNames()
    /// DNS facts (MX hosts) gathered for the plan; used for TLSA records with MX owners.
    public var dnsFacts: [DNSFacts] = []

    /// How `publish_tlsa` probes the DANE endpoints before it withdraws records after a restart
    /// (`TLSAWithdrawalGate`); tests put a stand-in here.
    var tlsProbe: any TLSProbe = OpenSSLTLSProbe()

    /// Seconds to wait for each DNS UPDATE exchange (`update = 'rfc2136'`), over UDP and then TCP.
    public var dnsUpdateTimeoutSeconds: Double = 5

    /// How long `await_propagation` waits for the nameservers (after `dns_check_delay`).
    public var propagationTimeoutSeconds: Double = 600
    /// How many ACME actions of one batch (orders, answers, finalizations) run at the same time.
    public var acmeConcurrency = 8
    /// How many actions of one per-host batch (restarts of different hosts) run at the same time.
    public var hostConcurrency = 8
    /// Timeouts and size limits of ACME requests.
    public var acmeLimits = ACMELimits()

    /// When the journal is compacted at the start of a run and how much history it keeps.
    public var journalCompaction = JournalCompaction.Policy()

    /// Crash simulation for tests: after this many actions have run, `apply` returns at once, writing no
    /// `end` record — as if the process had died there.
    var haltAfterActions: Int?

    public init() {}

    /// The short and the full host name of this machine.
    public static func systemHostNames() -> [String] {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return [] }
        let full = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard !full.isEmpty else { return [] }
        let short = full.split(separator: ".").first.map(String.init) ?? full
        return short == full ? [full] : [short, full]
    }
}
