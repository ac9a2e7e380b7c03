import ArgumentParser
import SSLMApply
import SSLMCore

/// Options that change what is planned; shared by `plan` and `apply`.
struct PlanningOptions: ParsableArguments {
    @Argument(
        help: ArgumentHelp(
            "Targets in ssl-mgr's syntax: group:svc1,svc2 or group:ALL (default: every active group).",
            valueName: "group:services"))
    var targets: [String] = []

    @Option(help: "Which work to plan: renew (new next certificates), roll (next becomes curr), or all.")
    var phase: String = "all"

    @Flag(help: "Renew (or roll) even when not due.")
    var force = false

    @Flag(
        help: ArgumentHelp(
            "Replace the targets' certificates now (a compromised key, a revoked certificate): new key, new certificate, roll, production and restarts in this run.",
            discussion:
                "Replaces a pending next too. For DANE services the plan says what happens to the TLSA records; with --reuse-key (selector 1) they stay valid."
        ))
    var replace = false

    @Flag(
        help: ArgumentHelp(
            "Retire what left the config: remove its production copy, withdraw its TLSA records, archive its keys under certs/.retired/.",
            discussion:
                "Without it (and without retire_orphans = true) such certs/ directories are notes. Keys are "
                + "archived, never deleted; copies on remote servers are not removed."
        ))
    var retire = false

    @Flag(
        help:
            "With --retire: first revoke each retired curr certificate at the ACME CA that issued it (not for local CAs)."
    )
    var revoke = false

    @Flag(name: .customLong("reuse-key"), help: "Renew with the current private key (TLSA 3 1 1 records stay valid).")
    var reuseKey = false

    @Flag(
        help:
            "Issue from the ACME CAs' staging directories, in a separate state (<topdir>/test/certs, its own accounts, production in <prod_cert_dir>.test); no TLSA publication, copies or restarts."
    )
    var test = false

    @Option(
        name: .customLong("min-roll-mins"),
        help: "Minimum age of next, in minutes, before a roll (default: min_roll_mins).")
    var minRollMinutes: Int?

    @Option(
        help: ArgumentHelp(
            "For tests and simulations: plan as if it were this time (RFC 3339). Also SSLM_NOW.",
            valueName: "time"))
    var now: String?

    func validate() throws {
        if replace && targets.isEmpty {
            throw ValidationError("--replace needs the services to replace (group:service), e.g. example.com:mail-ec")
        }
        if replace && phase != "all" {
            throw ValidationError("--replace makes and rolls a new certificate: it cannot be combined with --phase")
        }
        if revoke && !retire {
            throw ValidationError("--revoke revokes the certificates of retired services: it needs --retire")
        }
        let range = ConfigLimits.minRollMinutes
        if let minRollMinutes, !range.contains(minRollMinutes) {
            throw ValidationError(
                "--min-roll-mins: expected \(range.lowerBound)–\(range.upperBound) minutes (at most 365 days), "
                    + "found \(minRollMinutes)")
        }
    }
}

struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a service's certificate at its ACME CA.",
        discussion: """
            Revokes certs/<group>/<service>/curr/cert.pem (or next, with --next) at the ACME CA that issued it, \
            signed with sslm's account for that CA, and records the revocation in .sslm/certificates.json: the \
            next `sslm apply` replaces the revoked certificate (new key, new certificate, roll) without a flag.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "group:service") var target: String
    @Option(help: "RFC 5280 reason: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation.")
    var reason: String = "unspecified"
    @Flag(help: "Revoke the pending next certificate instead of curr.") var next = false
    @Flag(help: "The certificate was issued with --test (ACME staging).") var test = false

    func run() async throws {
        guard case .success(let spec) = TargetSpec.parse(target), let services = spec.services, services.count == 1,
            let name = services.first
        else { throw ValidationError("expected one group:service, found \"\(target)\"") }
        let address = ServiceAddress(group: spec.group, service: name)
        let lock = try await WriterLock.acquire(
            topdirOption: global.topdir, test: test,
            seconds: WriterLock.defaultTimeoutSeconds)
        defer { lock.release() }
        var config = try ConfigSession.load(topdirOption: global.topdir, extraTargets: [address])
        if test {
            try TestMode.requireStaging(config, services: [address])
            config = TestMode.apply(to: config)
        }
        let logger = try RunLogger.make(logDirectory: config.globals.logDir, verbose: global.verbose)
        var directory: String?
        if test, case .authority(let ca)? = config.service(address)?.signer,
            let settings = config.certificateAuthorities[ca]?.acme
        {
            directory = settings.stagingDirectoryURL
        }
        do {
            print(
                try await Revocation.revoke(
                    config: config, address: address, reason: reason,
                    slot: next ? "next" : "curr", logger: logger, directoryOverride: directory,
                    now: try RunClock.now(option: nil)))
        } catch let error as SSLMError {
            throw CLIError(error.description)
        }
    }
}
