import ArgumentParser
import Foundation
import SSLMConfig
import SSLMCore
import Logging
import SSLMApply
import SSLMDNS
import SSLMObserve
import SSLMPlan

/// Everything `plan`, `apply` and `status` share: the topdir, the config, the chosen services, the
/// DNS facts, the observation and "now".
struct PlanSession {
    let topdir: String
    let config: Config
    /// The services this run acts on, in order; nil = every service of the active groups.
    let targets: [ServiceAddress]?
    let targetSpecs: [String]
    var observation: Observation
    let now: Date
    /// `--test`: ACME staging directories, and a separate state (see `TestMode`).
    var acmeStaging = false
    /// The state root's lock, when a writing command took it before this session observed anything
    /// (`WriterLock`); `execute` runs the executor under it. Only a session with the lock records what it
    /// observed (`.sslm/tlsa-published.json`, the ARI cache): `plan`, `status`, `show` and `check` write
    /// nothing.
    var lock: ApplyLock?

    /// Loads and observes. Throws `CLIError` after printing diagnostics. `lock`: the writer lock of a
    /// command that writes, taken before this call (see `lock`).
    static func open(
        global: GlobalOptions, targetArguments: [String], now nowOption: String?,
        gatherDNS: Bool = true, observeAll: Bool = false, test: Bool = false, lock: ApplyLock? = nil
    ) throws -> PlanSession {
        try open(
            topdirOption: global.topdir, targetArguments: targetArguments, now: nowOption, gatherDNS: gatherDNS,
            observeAll: observeAll, test: test, lock: lock)
    }

    /// As above, with the topdir option given directly (the ssl-mgr front end has no `GlobalOptions`).
    /// `fingerprinted: false` for a command that neither shows nor saves a plan (`Observation.init`).
    static func open(
        topdirOption: String?, targetArguments: [String], now nowOption: String?,
        gatherDNS: Bool = true, observeAll: Bool = false, test: Bool = false, lock: ApplyLock? = nil,
        fingerprinted: Bool = true
    ) throws -> PlanSession {
        var specs: [TargetSpec] = []
        for argument in targetArguments {
            switch TargetSpec.parse(argument) {
            case .success(let spec): specs.append(spec)
            case .failure(let error): throw CLIError(error.message)
            }
        }
        let now = try RunClock.now(option: nowOption)
        let extra = specs.flatMap { spec in
            (spec.services ?? ["*"]).map { ServiceAddress(group: spec.group, service: $0) }
        }
        var config = try ConfigSession.load(
            topdirOption: topdirOption, extraTargets: extra, cache: lock != nil ? .record : .read)
        if test { config = TestMode.apply(to: config) }
        var targets: [ServiceAddress]?
        if !specs.isEmpty {
            var list: [ServiceAddress] = []
            for spec in specs {
                let names = spec.services ?? (config.groups.first { $0.domain == spec.group }?.services ?? [])
                for name in names {
                    let address = ServiceAddress(group: spec.group, service: name)
                    if !list.contains(address) { list.append(address) }
                }
            }
            targets = list
        }
        if test { try TestMode.requireStaging(config, services: targets ?? config.activeServices) }
        var services = targets ?? config.activeServices
        if observeAll { services += config.services.keys.sorted().filter { !services.contains($0) } }
        // The local CAs that sign the chosen services are observed too: the planner needs their curr.
        var index = 0
        while index < services.count {
            if case .authority(let name) = config.service(services[index])?.signer,
                let ca = config.certificateAuthorities[name], ca.isLocal, !services.contains(ca.localAddress)
            {
                services.append(ca.localAddress)
            }
            index += 1
        }
        // Every local CA's curr too: a certificate issued by one before a switch of `signing_ca` is known by
        // its issuer name (`issuer_changed`).
        for ca in config.certificateAuthorities.values.sorted(by: { $0.name < $1.name })
        where ca.isLocal && config.service(ca.localAddress) != nil && !services.contains(ca.localAddress) {
            services.append(ca.localAddress)
        }
        let apexes = Array(Set(services.map(\.group))).sorted()
        let dns = gatherDNS ? DNSFactsGatherer.gather(config: config, apexes: apexes) : []
        let cache = Observer.openCache(config: config, recording: lock != nil)
        var observation = Observer.observe(
            config: config, services: services, dns: dns,
            localHostNames: ExecutorOptions.systemHostNames(), cache: cache, fingerprinted: fingerprinted)
        // Advisory (ObservationCache): a cache that cannot be written only means reading again next time.
        if lock != nil { try? cache?.write(topdir: config.topdir) }
        if gatherDNS, let publications = observation.danePublications {
            // What the name servers serve of the TLSA records, and since when (the roll waits for it).
            let observed = DNSFactsGatherer.gatherTLSA(config: config, publications: publications)
            let recorded = TLSAPublicationLog.record(
                observed, topdir: config.topdir, now: now, persist: lock != nil)
            if let warning = recorded.warning {
                FileHandle.standardError.write(Data(("warning: " + warning + "\n").utf8))
            }
            observation.danePublications = recorded.publications
        }
        return PlanSession(
            topdir: config.topdir, config: config, targets: targets,
            targetSpecs: specs.map(\.description), observation: observation, now: now,
            acmeStaging: test, lock: lock)
    }

    func plan(_ options: PlanningOptions) throws -> Plan {
        guard let phase = Phase(rawValue: options.phase) else {
            throw CLIError("--phase: \"\(options.phase)\" is not one of renew, roll, all")
        }
        if let minutes = options.minRollMinutes, minutes < 0 {
            throw CLIError("--min-roll-mins: expected 0 or more minutes, found \(minutes)")
        }
        var request = request(
            phase: phase, force: options.force, reuseKey: options.reuseKey, minRollMinutes: options.minRollMinutes)
        request.replaceNow = options.replace
        request.retire = options.retire
        request.revokeRetired = options.revoke
        return Planner.plan(request)
    }

    /// The plan a saved plan's options give for this session's config, observation and time (the check
    /// behind `apply FILE`, see `PlanReplay`).
    func replan(_ options: Plan.Options) throws -> Plan {
        let fields: ReplayOptions
        do {
            fields = try PlanReplay.requestFields(options)
        } catch let error as SSLMError {
            throw CLIError(error.message)
        }
        var request = request(
            phase: fields.phase, force: fields.force, reuseKey: fields.reuseKey,
            minRollMinutes: fields.minRollMinutes)
        request.cleanKeep = fields.cleanKeep
        request.cleanAll = fields.cleanAll
        request.forceProductionSync = fields.forceProductionSync
        request.forceRestarts = fields.forceRestarts
        request.forceDNSRefresh = fields.forceDNSRefresh
        request.replaceNow = fields.replaceNow
        request.retire = fields.retire
        request.revokeRetired = fields.revokeRetired
        return Planner.plan(request)
    }

    /// A planning request over this session's config, observation, time and targets.
    func request(phase: Phase, force: Bool, reuseKey: Bool, minRollMinutes: Int?) -> PlanningRequest {
        var request = PlanningRequest(
            config: config, observation: observation, now: now, targets: targets, targetSpecs: targetSpecs,
            phase: phase, force: force, reuseKey: reuseKey, minRollMinutes: minRollMinutes)
        request.acmeStaging = acmeStaging
        return request
    }
}

extension PlanSession {
    /// This session with the ACME CAs' renewal windows (ARI) of the observed curr certificates, for the
    /// planner. Asks only CAs that issued an observed curr, and uses the cache in `.sslm/acme/` (which only
    /// a session with the writer lock updates); problems are warnings on stderr (the planner then uses
    /// `[renew_info]`). The DANE endpoints are probed first (`withDANEEndpoints`): both are facts of the
    /// network that every planning command needs.
    func withRenewalInfo(verbose: Bool) async -> PlanSession {
        var copy = await withDANEEndpoints()
        let issuedByACME = observation.services.contains { state in
            guard case .authority(let name)? = config.service(state.address)?.signer else { return false }
            return config.certificateAuthorities[name]?.acme != nil && state.dbDir(state.curr)?.certificate != nil
        }
        guard issuedByACME else { return copy }
        let logger = Logger(label: "sslm.ari") { _ in StandardErrorLogHandler(logLevel: verbose ? .info : .warning) }
        let windows = await RenewalInfoGatherer.gather(
            config: config, observation: observation, staging: acmeStaging, logger: logger,
            writeCache: lock != nil)
        copy.observation.renewalWindows = windows.isEmpty ? nil : windows
        return copy
    }

    /// This session with its DANE endpoints probed (`DANEEndpointProber`: only for apexes whose published
    /// TLSA copies wait for an update, and only when DNS was asked; never with `--test`, which publishes
    /// nothing).
    func withDANEEndpoints() async -> PlanSession {
        guard !acmeStaging, !observation.dns.isEmpty, observation.danePublications != nil else {
            return self
        }
        var copy = self
        copy.observation.daneEndpoints = await DANEEndpointProber.probe(config: config, observation: observation)
        return copy
    }

    /// Applies `plan` to this session's topdir with the run's logger (log file + stderr), the DNS facts
    /// the plan was made with and this machine's host names. The one place the CLI runs the executor.
    func execute(_ plan: Plan, verbose: Bool, propagationTimeout: Double? = nil) async throws
        -> (report: ApplyReport, logger: Logger)
    {
        let logger = try RunLogger.make(logDirectory: config.globals.logDir, verbose: verbose || config.globals.verbose)
        logger.info("apply: \(plan.actions.count) action(s), state \(plan.base.fingerprint)")
        var options = ExecutorOptions()
        options.localHostNames = ExecutorOptions.systemHostNames()
        options.dnsFacts = observation.dns
        options.heldLock = lock
        if let propagationTimeout { options.propagationTimeoutSeconds = propagationTimeout }
        let executor = Executor(config: config, topdir: topdir, now: now, logger: logger, options: options)
        do {
            return (try await executor.apply(plan), logger)
        } catch let error as SSLMError {
            throw CLIError(error.message)
        }
    }
}

/// `--test` (ssl-mgr `-t`): issue from the ACME CAs' staging directories without touching the real
/// installation. Certificates live in `<topdir>/test/certs` with their own journal and accounts in
/// `<topdir>/test/.sslm` (ssl-mgr mixed staging certificates into `certs/`: sslm does not), production is
/// `<prod_cert_dir>.test` (as in ssl-mgr), TLSA records are not published to `[dns] tlsa_dirs` (a staging
/// key must never reach the real zone), and nothing is copied to servers or restarted.
enum TestMode {
    /// The state root of `--test` runs for `topdir`.
    static func stateRoot(topdir: String) -> String { topdir + "/test" }

    /// Refuses `--test` for a service whose ACME CA has no staging directory: the order would go to the
    /// production CA. The error names the CA and the key to set.
    static func requireStaging(_ config: Config, services: [ServiceAddress]) throws {
        for address in services {
            guard case .authority(let name)? = config.service(address)?.signer,
                let acme = config.certificateAuthorities[name]?.acme, acme.stagingDirectoryURL == nil
            else { continue }
            throw CLIError(
                "--test: CA \"\(name)\" (ca-info.conf, signing \(address)) has no staging directory: set "
                    + "ca_staging_directory_url, or leave \(address) out of the targets; --test never orders from "
                    + "the production directory \(acme.directoryURL)")
        }
    }

    static func apply(to config: Config) -> Config {
        var config = config
        config.topdir = stateRoot(topdir: config.topdir)
        config.globals.prodCertDir += ".test"
        config.globals.postCopyCommands = []
        config.hooks = HookSettings()
        config.notify = NotifySettings()
        config.dns.tlsaDirs = []
        config.servers = config.servers.map { section in
            var section = section
            section.restartCommands = []
            section.skipProdCopy = true
            return section
        }
        return config
    }
}

/// The lock of every command that writes (`apply`, `apply FILE`, `sslm-mgr`, `revoke`): taken on the state
/// root before the config is read and the state observed, and held until the process exits, so that a
/// second run waits and then plans from what the first one left — it never executes a plan computed before
/// the first run finished.
enum WriterLock {
    /// How long a writing command waits for another one by default (`--lock-timeout`).
    static let defaultTimeoutSeconds = 300.0
    /// The exit status when the wait ran out: nothing was read or done.
    static let heldExitCode: Int32 = 4

    /// Takes the lock of the topdir `topdirOption` resolves to (of its `--test` state root with `test`).
    /// Prints the reason and exits with `heldExitCode` when another sslm keeps it longer than `seconds`.
    static func acquire(topdirOption: String?, test: Bool, seconds: Double) async throws -> ApplyLock {
        let topdir: String
        do {
            topdir = try TopdirResolver(explicit: topdirOption).resolve()
        } catch {
            throw CLIError(error.message)
        }
        let root = test ? TestMode.stateRoot(topdir: topdir) : topdir
        do {
            return try await ApplyLock.acquire(topdir: root, timeout: .milliseconds(Int((seconds * 1000).rounded())))
        } catch let error as SSLMError where error.code == .lockHeld {
            Console.error("error: \(error.message); this run did nothing")
            throw ExitCode(heldExitCode)
        } catch let error as SSLMError {
            throw CLIError(error.message)
        }
    }

    /// `--lock-timeout`: a number of seconds from 0 to one day.
    static func validate(_ seconds: Double) throws {
        guard seconds >= 0, seconds <= 86_400 else {
            throw ValidationError("--lock-timeout: expected 0 to 86400 seconds, found \(seconds)")
        }
    }
}
