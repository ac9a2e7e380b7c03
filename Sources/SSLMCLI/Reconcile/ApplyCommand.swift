import ArgumentParser
import Foundation
import Logging
import SSLMApply
import SSLMCore
import SSLMPlan

/// `sslm apply`: plan and apply (the cron entry point), or apply a saved plan.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Plan and apply (the cron entry point), or apply a saved plan FILE.",
        discussion: """
            Without FILE: observes, plans with the given options (the same as `sslm plan`) and executes the \
            plan at once — no prompt; this is what cron or a systemd timer runs. With FILE (a plan written by \
            `sslm plan -o FILE`): executes that plan if the state is still the one it was made from; \
            otherwise refuses with exit status 3.

            One writing run at a time per topdir (a lock in <topdir>/.sslm/). Every step is journaled in \
            <topdir>/.sslm/journal.jsonl; when a step fails, the steps that depend on it are skipped, the \
            others still run, production keeps the failed service's old files, and the next run retries.

            Writing commands (apply, apply FILE, sslm-mgr, revoke) take that lock before they read the config or \
            observe anything, and wait for it (--lock-timeout). A saved plan is only an assertion: sslm plans \
            again from the config and the state it observes under the lock, with the plan's options, and runs \
            its own plan only when the actions are the same as the file's (anything else is refused with exit \
            status 3); a value edited into the file never reaches a command, a host or a path.

            Exit status: 0 everything done (or nothing to do), 1 a step failed, a service is blocked, or an \
            error, 3 stale or altered plan file, 4 another sslm kept the lock longer than --lock-timeout.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var planning: PlanningOptions
    @Option(
        name: .customLong("metrics-file"),
        help: ArgumentHelp(
            "After the run, write certificate expiry, renewal times, the last successful apply and this run's failures as a Prometheus textfile (for node_exporter's textfile collector).",
            valueName: "file"))
    var metricsFile: String?
    @Option(
        name: .customLong("dns-timeout"),
        help: ArgumentHelp(
            "dns-01: how long to wait, in seconds, for the primary and every nameserver to serve the challenges (after dns_check_delay). Default 600.",
            valueName: "seconds"))
    var dnsTimeout: Double?
    @Option(
        name: .customLong("lock-timeout"),
        help: ArgumentHelp(
            "How long to wait, in seconds, while another sslm works on this topdir (its lock is taken before anything is read). Default 300; exit status 4 when it runs out.",
            valueName: "seconds"))
    var lockTimeout: Double = WriterLock.defaultTimeoutSeconds

    func validate() throws {
        if let dnsTimeout, !(dnsTimeout > 0 && dnsTimeout <= 86_400) {
            throw ValidationError(
                "--dns-timeout: expected a number of seconds above 0 and at most 86400, found \(dnsTimeout)")
        }
        try WriterLock.validate(lockTimeout)
    }

    func run() async throws {
        if let file = savedPlanArgument() {
            try await applySaved(file)
            return
        }
        let lock = try await WriterLock.acquire(topdirOption: global.topdir, test: planning.test, seconds: lockTimeout)
        var session = try PlanSession.open(
            global: global, targetArguments: planning.targets, now: planning.now,
            test: planning.test, lock: lock)
        session = await session.withRenewalInfo(verbose: global.verbose)
        let plan = try session.plan(planning)
        try await execute(plan, session: session)
    }

    /// The single positional argument when it names a plan file rather than a target.
    private func savedPlanArgument() -> String? {
        guard planning.targets.count == 1, let argument = planning.targets.first, !argument.contains(":") else {
            return nil
        }
        return argument
    }

    /// `apply FILE`: the saved plan is an assertion, not a program. Under the lock, sslm observes again,
    /// checks that the config and the state are the ones the plan was made from, plans again with the
    /// plan's options, and executes its own plan only when its actions equal the file's (`PlanReplay`).
    private func applySaved(_ file: String) async throws {
        if planning.force || planning.reuseKey || planning.test || planning.phase != "all"
            || planning.minRollMinutes != nil || planning.replace || planning.retire || planning.revoke
        {
            throw ValidationError(
                "\(file): a saved plan carries its own options; --force, --replace, --retire, --revoke, --reuse-key, "
                    + "--test, --phase and --min-roll-mins cannot be given with it")
        }
        let plan = try SavedPlanFile.read(file)
        let replay: ReplayOptions
        do {
            replay = try PlanReplay.requestFields(plan.options)
        } catch let error as SSLMError {
            throw CLIError("\(file): \(error.message)")
        }
        let lock = try await WriterLock.acquire(topdirOption: global.topdir, test: replay.test, seconds: lockTimeout)
        var session = try PlanSession.open(
            global: global, targetArguments: plan.options.targets, now: planning.now,
            observeAll: replay.cleanAll, test: replay.test, lock: lock)
        var changes: [String] = []
        if session.config.digest != plan.configDigest { changes.append("the configuration in conf.d/ changed") }
        if session.observation.lineage != nil, plan.base.lineage != nil,
            session.observation.lineage != plan.base.lineage
        {
            changes.append("the plan was made for another topdir")
        }
        if session.observation.fingerprint != plan.base.fingerprint {
            let parts = plan.base.changedParts(comparedWith: session.observation.parts)
            changes.append(
                parts.isEmpty
                    ? "the certificates, production or TLSA files changed"
                    : "changed since the plan was made: " + parts.joined(separator: ", "))
        }
        if !changes.isEmpty {
            Console.error("error: \(file) is stale: " + changes.joined(separator: "; ") + ". Run `sslm plan` again.")
            throw ExitCode(3)
        }
        session = await session.withRenewalInfo(verbose: global.verbose)
        let recomputed = try session.replan(plan.options)
        if let difference = PlanReplay.firstDifference(saved: plan.actions, recomputed: recomputed.actions) {
            Console.error(
                "error: \(file) is not what sslm plans for this config and state: \(difference). Nothing was done; "
                    + "run `sslm plan` again.")
            throw ExitCode(3)
        }
        try await execute(recomputed, session: session)
    }

    private func execute(_ plan: Plan, session: PlanSession) async throws {
        for note in plan.notes where note.reason.code != ReasonCode.notDue.rawValue || global.verbose {
            print("note: \(note.subject): \(note.reason.message)")
        }
        let blocked = plan.blockedNotes
        if plan.isEmpty {
            print("No changes.")
            if blocked.isEmpty { MetricsFile.writeLastSuccess(topdir: session.topdir, date: session.now) }
            try writeMetrics(topdir: session.topdir, failures: [:])
            try await runHooks(plan, report: nil, blocked: blocked, session: session, logger: nil)
            try Self.failIfBlocked(blocked)
            return
        }
        let (report, logger) = try await session.execute(plan, verbose: global.verbose, propagationTimeout: dnsTimeout)
        for action in plan.actions where action.reason.code == ReasonCode.rollDeadline.rawValue {
            logger.warning("\(action.service ?? action.id): \(action.reason.message)")
            Console.error("warning: \(action.service ?? action.id): \(action.reason.message)")
        }
        let summary = ApplyView.render(report, plan: plan)
        logger.info("apply finished: \(summary.split(separator: "\n").last ?? "")")
        for note in blocked { logger.error("blocked: \(note.subject): \(note.reason.message)") }
        print(summary, terminator: "")
        if report.succeeded && blocked.isEmpty {
            MetricsFile.writeLastSuccess(topdir: session.topdir, date: session.now)
        }
        try writeMetrics(topdir: session.topdir, failures: MetricsFile.failures(report, plan: plan))
        try await runHooks(plan, report: report, blocked: blocked, session: session, logger: logger)
        try Self.failIfBlocked(blocked)
        if !report.succeeded { throw ExitCode(1) }
    }

    /// After the run: `[hooks]` (`deploy_cmd` after a run that changed production, `failure_cmd` after one
    /// with failures or blocked services; `RunHooks`) and `[notify]` mail (`NotifyMail`). A failing hook or
    /// mail is a warning; it changes neither the run nor its status.
    private func runHooks(_ plan: Plan, report: ApplyReport?, blocked: [Note], session: PlanSession, logger: Logger?)
        async throws
    {
        let config = session.config
        let hooks = config.hooks
        let wantsHooks = hooks.deployCommand != nil || hooks.failureCommand != nil
        guard wantsHooks || !config.notify.email.isEmpty else { return }
        // The journal is read only when there are failures to date.
        let failed = !(report?.failures.isEmpty ?? true)
        let summary = RunHooks.summarize(
            plan: plan, report: report, blocked: blocked,
            failingSince: failed ? RunHooks.failingSince(topdir: session.topdir) : [:])
        let logger = try logger ?? RunLogger.make(logDirectory: config.globals.logDir, verbose: global.verbose)
        var problems = await RunHooks.run(summary, config: config, now: session.now, logger: logger)
        if !config.notify.email.isEmpty {
            let after = try PlanSession.open(
                topdirOption: session.topdir, targetArguments: [], now: planning.now, gatherDNS: false)
            let conditions = NotifyMail.conditions(
                summary, status: StatusReport.make(session: after), expiryDays: config.notify.expiryDays)
            if let problem = await NotifyMail.send(conditions, config: config, now: session.now, logger: logger) {
                problems.append(problem)
            }
        }
        for problem in problems { Console.error("warning: " + problem + " (the run itself is not affected)") }
    }

    /// A run that leaves a service blocked did not succeed: it says so and exits 1.
    static func failIfBlocked(_ blocked: [Note]) throws {
        guard !blocked.isEmpty else { return }
        let subjects = blocked.map(\.subject).joined(separator: ", ")
        Console.error(
            "error: \(blocked.count) service(s) blocked, nothing can be done for them until fixed by hand: "
                + subjects + " (see the notes above, or `sslm status`)")
        throw ExitCode(1)
    }

    /// The metrics file, from a fresh observation of the state the run left.
    private func writeMetrics(topdir: String, failures: [String: Int]) throws {
        guard let metricsFile else { return }
        let after = try PlanSession.open(
            topdirOption: topdir, targetArguments: planning.targets, now: planning.now,
            gatherDNS: false)
        let text = MetricsFile.render(
            status: StatusReport.make(session: after),
            lastSuccess: MetricsFile.readLastSuccess(topdir: topdir), failures: failures)
        try MetricsFile.write(text, to: metricsFile)
    }
}

/// The human summary of an apply.
enum ApplyView {
    static func render(_ report: ApplyReport, plan: Plan) -> String {
        var lines: [String] = []
        var done = 0, repeated = 0, failed = 0, skipped = 0
        for result in report.results {
            switch result.outcome {
            case .succeeded(let detail):
                done += 1
                lines.append("  done    \(result.id)" + (detail.map { "  (\($0))" } ?? ""))
            case .alreadyApplied:
                repeated += 1
                lines.append("  earlier \(result.id)")
            case .failed(let reason):
                failed += 1
                lines.append("  FAILED  \(result.id): \(reason)")
            case .failedNonFatal(let reason):
                failed += 1
                lines.append("  FAILED  \(result.id): \(reason) (the run went on)")
            case .skipped(let dependency):
                skipped += 1
                lines.append("  skipped \(result.id): \(dependency) did not succeed")
            }
        }
        var summary = "\(report.results.count) action(s): \(done) done"
        if repeated > 0 { summary += ", \(repeated) done earlier" }
        if failed > 0 { summary += ", \(failed) failed" }
        if skipped > 0 { summary += ", \(skipped) skipped" }
        if failed > 0 || skipped > 0 { summary += " — the next run retries what did not succeed" }
        return (lines + [summary]).joined(separator: "\n") + "\n"
    }
}
