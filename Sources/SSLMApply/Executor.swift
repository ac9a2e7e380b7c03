import Foundation
import Logging
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan

/// Executes a plan: locked, journaled, in plan order, one handler per action kind.
///
/// Guarantees:
/// - One instance per topdir (`ApplyLock`); `<topdir>/.sslm/lineage` is created on first use, and a plan
///   made for another topdir (different lineage) is refused before anything runs.
/// - Actions run in plan order, except that consecutive independent actions of a kind that is not serial
///   run as one batch, at the same time (`ActionKindTraits.concurrency`: the ACME stages, restarts of
///   different hosts); the next action starts when the whole batch is done. When one fails, every action
///   that depends on it, directly or not, is skipped; independent actions still run.
/// - Each action's start and result are fsync'ed to the journal. Re-applying the same plan (same digest)
///   does not repeat the actions the journal shows as done: it resumes an interrupted run, and a second
///   run of a completed plan is a no-op (every action `alreadyApplied`).
/// - Handlers are idempotent: they assume the inputs the plan promises exist, and tolerate their outputs
///   existing already (after a crash). Every file is written atomically; keys are 0600, directories 0750.
/// - External programs run as argv lists through `CommandRunner`, never a shell, with a timeout.
///
/// It does not check that the plan is fresh (the caller compares the plan's base fingerprint with a new
/// observation) and does not decide anything: it runs each action with its kind's handler
/// (`ActionHandlers`), never looking at reasons.
public struct Executor: Sendable {
    public let config: Config
    public let topdir: String
    /// The injected time: db directory names, certificate validity, `curr/info`.
    public let now: Date
    public let logger: Logger
    public let runner: any CommandRunner
    public let options: ExecutorOptions

    public init(
        config: Config, topdir: String, now: Date, logger: Logger,
        runner: any CommandRunner = ProcessCommandRunner(), options: ExecutorOptions = ExecutorOptions()
    ) {
        self.config = config
        self.topdir = topdir
        self.now = now
        self.logger = logger
        self.runner = runner
        self.options = options
    }

    /// Applies `plan`. Throws (before running any action) for a malformed plan, a lock held longer than
    /// `options.lockTimeout`, a plan of another topdir, or when the journal cannot be written; every action
    /// failure is a result in the report instead.
    public func apply(_ plan: Plan) async throws -> ApplyReport {
        try Self.validate(plan)
        FaultInjection.activate()
        let lock: ApplyLock
        if let held = options.heldLock {
            guard held.covers(topdir: topdir) else {
                throw SSLMError(
                    .invalidArgument, "the lock \(held.path) held by the caller is not the lock of \(topdir)")
            }
            lock = held
        } else {
            lock = try await ApplyLock.acquire(topdir: topdir, timeout: options.lockTimeout)
        }
        defer { if options.heldLock == nil { lock.release() } }
        let lineage = try StateDirectory.ensureLineage(topdir: topdir)
        if let planned = plan.base.lineage, planned != lineage {
            throw SSLMError(
                .invalidArgument,
                "the plan was made for another topdir (lineage \(planned); \(topdir) has \(lineage)): "
                    + "make a new plan for this topdir")
        }
        let digest = ContentDigest.labelled(PlanCodec.encode(plan))
        var logger = self.logger
        logger[metadataKey: "plan.digest"] = "\(digest)"
        // Under the lock: compaction replaces the file the journal appends to.
        if let compacted = try JournalCompaction.compact(topdir: topdir, policy: options.journalCompaction) {
            let (lines, bytes) = (
                "\(compacted.linesBefore) → \(compacted.linesAfter)",
                "\(compacted.bytesBefore) → \(compacted.bytesAfter)"
            )
            logger.info("journal compacted: \(lines) lines, \(bytes) bytes")
        }
        // What ApplyRun reads: this plan's records (resume) and the ACME orders' `ok` records.
        var journalRecords: [JournalRecord] = []
        try Journal.forEachRecord(
            topdir: topdir,
            matching: { fields in
                fields.plan == digest
                    || (fields.event == "ok" && fields.action.flatMap(ActionID.init)?.isACMEOrder == true)
            }
        ) { journalRecords.append($0) }
        let earlier = journalRecords.filter { $0.plan == digest }
        let journal = try Journal(topdir: topdir)
        let run = ApplyRun(executor: self, earlier: earlier, plan: plan, journal: journalRecords)
        if !earlier.isEmpty {
            logger.notice("this plan was applied before: actions the journal shows as done are not repeated")
        }
        try journal.append(record(digest, nil, .begin, "base \(plan.base.fingerprint)"))

        var outcomes: [String: ActionOutcome] = [:]
        // The `ok` details of the plan's finished actions: what a later action reads (roll: create_next's).
        var recorded = run.earlierDetails
        var results: [ActionResult] = []
        var ran = 0
        var index = 0
        let actions = plan.actions
        while index < actions.count {
            if let halt = options.haltAfterActions, ran >= halt {
                return ApplyReport(planDigest: digest, results: results)
            }
            let (batch, width) = nextBatch(of: actions, from: index, run: run)
            index += batch.count
            var toRun: [Action] = []
            for action in batch {
                var actionLogger = logger
                actionLogger[metadataKey: "action.id"] = "\(action.id)"
                actionLogger[metadataKey: "action.kind"] = "\(action.kind.rawValue)"
                if let blocker = action.dependsOn.first(where: { outcomes[$0]?.unblocksDependents != true }) {
                    outcomes[action.id] = .skipped(dependency: blocker)
                    actionLogger.warning("skipped: \(blocker) did not succeed")
                    try journal.append(record(digest, action.id, .skipped, "depends on \(blocker)"))
                } else if run.alreadyDone.contains(action.id) {
                    outcomes[action.id] = .alreadyApplied
                    actionLogger.info("already applied (journal)")
                } else {
                    toRun.append(action)
                }
            }
            for action in toRun {
                try journal.append(record(digest, action.id, .start, nil))
            }
            let finished = await Self.perform(toRun, run: run, recorded: recorded, logger: logger, width: width)
            for (action, outcome) in finished {
                ran += 1
                switch outcome {
                case .succeeded(let detail):
                    try journal.append(record(digest, action.id, .ok, detail))
                    if ActionHandlers.sharesDetail(action.kind) { recorded[action.id] = detail }
                case .failed(let reason), .failedNonFatal(let reason):
                    try journal.append(record(digest, action.id, .failed, reason))
                case .alreadyApplied, .skipped: break
                }
                outcomes[action.id] = outcome
                FaultInjection.actionRecorded(ran)
            }
            for action in batch {
                if let outcome = outcomes[action.id] {
                    results.append(ActionResult(id: action.id, kind: action.kind, outcome: outcome))
                }
            }
        }
        let report = ApplyReport(planDigest: digest, results: results)
        try journal.append(record(digest, nil, .end, report.succeeded ? "ok" : "\(report.failures.count) failed"))
        FaultInjection.runEnded()
        return report
    }

    /// The actions that run next, from `index`, and how many of them may run at the same time: one action,
    /// or — for a kind that is not serial (`ActionKindTraits.concurrency`) — the consecutive actions of its
    /// kind, none depending on another of the batch and, for a per-host kind, each on another host.
    private func nextBatch(of actions: [Action], from index: Int, run: ApplyRun) -> (batch: [Action], width: Int) {
        let first = actions[index]
        let concurrency = first.kind.traits.concurrency
        let width: Int
        switch concurrency {
        case .serial: return ([first], 1)
        case .acmeStage: width = options.acmeConcurrency
        case .perHost: width = options.hostConcurrency
        }
        // The machine an action runs on: this one counts once, whichever of its names the action uses.
        func machine(_ action: Action) -> String? {
            ActionID(action.id)?.host.map { run.isLocal($0) ? "localhost" : $0.lowercased() }
        }
        var busy: Set<String> = []
        if concurrency == .perHost {
            guard let host = machine(first) else { return ([first], 1) }
            busy.insert(host)
        }
        var batch = [first]
        var ids: Set<String> = [first.id]
        for action in actions[(index + 1)...] {
            guard action.kind == first.kind, !action.dependsOn.contains(where: ids.contains) else { break }
            if concurrency == .perHost {
                guard let host = machine(action), busy.insert(host).inserted else { break }
            }
            batch.append(action)
            ids.insert(action.id)
        }
        return (batch, max(1, width))
    }

    /// Runs `actions` (one, or a batch of a concurrent kind) with at most `width` at a time; returns each
    /// with its outcome in the order they finished.
    private static func perform(
        _ actions: [Action], run: ApplyRun, recorded: [String: String], logger: Logger, width: Int
    ) async -> [(Action, ActionOutcome)] {
        func one(_ action: Action) async -> ActionOutcome {
            var actionLogger = logger
            actionLogger[metadataKey: "action.id"] = "\(action.id)"
            actionLogger[metadataKey: "action.kind"] = "\(action.kind.rawValue)"
            actionLogger.info("\(action.kind.rawValue) \(action.id)")
            do {
                let detail = try await run.perform(action, recorded: recorded, logger: actionLogger)
                if let detail { actionLogger.info("done: \(detail)") }
                return .succeeded(detail: detail)
            } catch let failure as NonFatalFailure {
                actionLogger.warning("failed (not fatal): \(failure.reason)")
                return .failedNonFatal(reason: failure.reason)
            } catch {
                actionLogger.error("failed: \(describe(error))")
                return .failed(reason: describe(error))
            }
        }
        if actions.count == 1, let action = actions.first { return [(action, await one(action))] }
        return await withTaskGroup(of: (Action, ActionOutcome).self) { group in
            var finished: [(Action, ActionOutcome)] = []
            var pending = actions[...]
            for _ in 0..<min(width, actions.count) {
                guard let action = pending.popFirst() else { break }
                group.addTask { (action, await one(action)) }
            }
            while let result = await group.next() {
                finished.append(result)
                if let action = pending.popFirst() { group.addTask { (action, await one(action)) } }
            }
            return finished
        }
    }

    /// Ids are unique and every dependency names an earlier action.
    static func validate(_ plan: Plan) throws {
        var seen: Set<String> = []
        for action in plan.actions {
            for dependency in action.dependsOn where !seen.contains(dependency) {
                throw SSLMError(
                    .malformedInput,
                    "plan action \(action.id) depends on \(dependency), which is not an earlier action of the plan")
            }
            guard seen.insert(action.id).inserted else {
                throw SSLMError(.malformedInput, "plan action id \(action.id) appears twice")
            }
        }
    }

    private func record(_ plan: String, _ action: String?, _ event: JournalRecord.Event, _ detail: String?)
        -> JournalRecord
    {
        JournalRecord(time: Timestamps.rfc3339(Date()), plan: plan, action: action, event: event, detail: detail)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? SSLMError { return error.description }
        return String(describing: error)
    }
}

/// Thrown by handlers whose failure must not stop anything (`post_copy`).
struct NonFatalFailure: Error {
    var reason: String
}
