import Foundation
import SSLMPKI
import SSLMTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash resume of `sslm apply` (Docs/architecture.md "Apply", Docs/apply.md): the real `sslm` process is killed with SIGKILL after each
/// action, inside file writes (before and after the rename) and at random instants, in three plans of the
/// example configuration: the fresh install (47 actions), a renewal 70 days later (new `next` sets, TLSA
/// updates, production `next/`) and the roll two hours after that (production `curr/` swapped, `next/`
/// removed). After every kill the disk must hold no key/certificate mismatch and no dangling link; one more
/// `sslm apply` must succeed, keep every key a certificate was issued for, and reach the same state as an
/// uninterrupted run, with an empty plan afterwards.
///
/// The kill switches are the test-only `SSLM_FAULT_KILL_AFTER_ACTIONS` and `SSLM_FAULT_KILL_IN_WRITE`
/// (Docs/apply.md "Testing"); the random kills are a real `kill -9` of a child process.
///
/// By default the matrix is sampled (`CrashSampling`, Tests/README.md): every kind of crash-safe write of every
/// phase, before and after its rename; three action counts per phase (per-action coverage is the in-process
/// `CrashResumeTests`); one random instant per phase. `SSLM_CRASH_TEST_FULL=1` in the environment of `swift test`
/// runs every action, the write selection below and 15 random instants.
@Suite(
    "sslm apply killed with SIGKILL, then applied again",
    .enabled(if: TestTier.full, "the crash matrix: not in make check"))
struct CrashKillTests {
    @Test(
        "killed right after the journal record of action N",
        arguments: try await CrashReference.shared.actionKillPoints())
    func killAfterAction(_ point: ActionKillPoint) async throws {
        try await CrashScenario.run(point.phase, "after action \(point.count)") { topdir, environment in
            try CrashChild.run(
                topdir, environment: environment.merging(["SSLM_FAULT_KILL_AFTER_ACTIONS": "\(point.count)"]) { $1 })
        }
    }

    @Test(
        "killed inside write N, before or after its rename",
        arguments: try await CrashReference.shared.writeKillPoints())
    func killInWrite(_ point: WriteKillPoint) async throws {
        try await CrashScenario.run(point.phase, "in write \(point.switchValue) (\(point.path))") {
            topdir, environment in
            try CrashChild.run(
                topdir, environment: environment.merging(["SSLM_FAULT_KILL_IN_WRITE": point.switchValue]) { $1 })
        }
    }

    @Test("kill -9 after a random delay (seeded)", arguments: 0..<CrashSampling.randomInstants)
    func killAtRandomInstant(_ iteration: Int) async throws {
        let phase = CrashPhase.allCases[iteration % CrashPhase.allCases.count]
        let reference = try await CrashReference.shared.value(phase)
        var random = SplitMix64(seed: 0x5EED_C0DE &+ UInt64(iteration))
        // Uniform over the duration of an uninterrupted apply (observe and plan included), plus a margin
        // so that some runs finish before the kill.
        let limit = max(reference.duration.milliseconds * 11 / 10, 50)
        let delay = Int.random(in: 0...limit, using: &random)
        try await CrashScenario.run(phase, "kill -9 after \(delay) ms", mustBeKilled: false) { topdir, environment in
            try await CrashChild.run(topdir, environment: environment, killAfter: .milliseconds(delay))
        }
    }

    @Test(
        "killed right after production curr/ was exchanged, with no next/ to remove: the next apply removes the hidden old set"
    )
    func killAfterLoneCurrSwap() async throws {
        // A hand-edited production file makes the plan replace web-ec's curr/ (and nothing else).
        let topdir = try await CrashReference.shared.copyOfStart(.renew)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let service = topdir + "/prod-certs/example.com/web-ec"
        try Data("edited by hand\n".utf8).write(to: URL(fileURLWithPath: service + "/curr/chain.pem"))
        let probe = try await CrashReference.shared.copy(of: topdir)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        let writes = try CrashChild.run(probe, environment: ["SSLM_FAULT_KILL_IN_WRITE": "1000000000"]).output
            .split(separator: "\n").filter { $0.hasPrefix("write ") }
        let swap = try #require(writes.firstIndex { $0.hasSuffix("/prod-certs/example.com/web-ec/curr") })

        let killed = try CrashChild.run(topdir, environment: ["SSLM_FAULT_KILL_IN_WRITE": "\(swap + 1):after"])
        #expect(killed.killed, "\(killed.output)")
        #expect(CrashInvariants.violations(topdir: topdir).isEmpty)
        let resumed = try CrashChild.run(topdir)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(CrashInvariants.productionDrift(topdir: topdir).isEmpty)
        let hidden = CrashInvariants.entries(service).filter { $0.hasPrefix(".") }
        // The planner treats hidden leftovers in production as drift: the next apply removes them.
        #expect(hidden.isEmpty, "left in production: \(hidden)")
    }

    @Test("the plans are long enough, and their writes are counted", arguments: CrashPhase.allCases)
    func referenceFigures(_ phase: CrashPhase) async throws {
        let reference = try await CrashReference.shared.value(phase)
        #expect(reference.actionCount >= (phase == .install ? 40 : 10))
        #expect(reference.writeCount >= reference.actionCount)
        #expect(reference.violations.isEmpty, "\(reference.violations)")
        if phase == .roll {
            // The roll swaps production curr/ directories and removes next/: those writes are tested.
            #expect(reference.writes.contains { $0.hasPrefix("prod-certs/") && $0.hasSuffix("/curr") })
            #expect(reference.writes.contains { $0.hasPrefix("prod-certs/") && $0.hasSuffix("/next") })
            #expect(reference.writeKinds.contains("prod-certs set replaced"))
            #expect(reference.writeKinds.contains("prod-certs set removed"))
        }
        if phase == .install {
            #expect(reference.writeKinds.contains("prod-certs set new"))
            #expect(reference.writeKinds.contains("certs link new"))
        }
        // The sample kills every kind of write of the phase both before and after its rename.
        let sampled = try await CrashReference.shared.writeKillPoints().filter { $0.phase == phase }
        for kind in Set(reference.writeKinds) {
            let instants = Set(sampled.filter { $0.kind == kind }.map(\.afterRename))
            #expect(instants == [false, true], "\(phase.rawValue): \(kind) is not killed before and after its rename")
        }
    }
}

/// The plans under test, each applied to the result of the one before.
enum CrashPhase: String, CaseIterable, Sendable {
    /// The fresh install of the example.
    case install
    /// 70 days later: every leaf is due (renewal 30 ± 3 days before the end of its 90 days), no CA is;
    /// new `next` sets wait `min_roll_mins` before the roll.
    case renew
    /// Two hours after the renewal: the `next` sets become curr.
    case roll

    /// `SSLM_NOW` of every `sslm` run of the phase (none: the real time).
    func environment(installedAt start: Date) -> [String: String] {
        let offset: TimeInterval
        switch self {
        case .install: return [:]
        case .renew: offset = 70 * 86_400
        case .roll: offset = 70 * 86_400 + 2 * 3600
        }
        var environment = ["SSLM_NOW": ISO8601DateFormatter().string(from: start.addingTimeInterval(offset))]
        // The example's DNS cannot be observed, so its DANE services would wait for their records forever:
        // the roll phase is the operator's forced roll (these tests are about crashes, not DANE timing).
        if self == .roll { environment[CrashChild.argumentsKey] = "--phase roll --force" }
        return environment
    }
}

/// One crash case: a copy of the phase's starting topdir, an interrupted apply, the checks after the kill,
/// one more apply, the checks after it.
enum CrashScenario {
    static func run(
        _ phase: CrashPhase, _ label: String, mustBeKilled: Bool = true,
        interrupt: (String, [String: String]) async throws -> CrashChild.Result
    ) async throws {
        let reference = try await CrashReference.shared.value(phase)
        let label = "\(phase.rawValue), \(label)"
        let topdir = try await CrashReference.shared.copyOfStart(phase)
        defer { try? FileManager.default.removeItem(atPath: topdir) }

        let interrupted = try await interrupt(topdir, reference.environment)
        if mustBeKilled || interrupted.killed {
            #expect(interrupted.killed, "\(label): apply was not killed: \(interrupted.output)")
        } else {
            #expect(interrupted.status == 0, "\(label): \(interrupted.output)")
        }
        let afterKill = CrashInvariants.violations(topdir: topdir)
        #expect(afterKill.isEmpty, "\(label), right after the kill: \(afterKill)")
        let issued = CrashInvariants.issuedKeys(topdir: topdir)

        let resumed = try CrashChild.run(topdir, environment: reference.environment)
        #expect(!resumed.killed && resumed.status == 0, "\(label), apply after the kill: \(resumed.output)")
        let afterResume = CrashInvariants.violations(topdir: topdir)
        #expect(afterResume.isEmpty, "\(label), after one more apply: \(afterResume)")
        // A certificate of an unfinished next may be issued again (for the same key); the key must stay.
        let kept = CrashInvariants.issuedKeys(topdir: topdir)
        let lost = issued.filter { kept[$0.key] != $0.value }.keys.sorted()
        #expect(lost.isEmpty, "\(label): keys with a certificate lost or changed by the apply after the kill: \(lost)")

        let plan = try SSLMProcess.run(
            ["plan", "--detailed-exitcode", "--topdir", topdir], environment: reference.environment)
        #expect(plan.status == 0, "\(label): the plan after the second apply is not empty:\n\(plan.stdout)")
        let shape = try CrashShape.of(topdir: topdir)
        let missing = reference.shape.subtracting(shape).sorted()
        let extra = shape.subtracting(reference.shape).sorted()
        #expect(
            missing.isEmpty && extra.isEmpty,
            "\(label): differs from an uninterrupted run: missing \(missing), extra \(extra)")
        let drift = CrashInvariants.productionDrift(topdir: topdir)
        #expect(drift.isEmpty, "\(label): production differs from curr: \(drift)")
    }
}

/// `SSLM_FAULT_KILL_AFTER_ACTIONS=<count>` in a phase.
struct ActionKillPoint: Sendable, CustomTestStringConvertible {
    var phase: CrashPhase
    var count: Int

    var testDescription: String { "\(phase.rawValue) \(count)" }
}

/// `SSLM_FAULT_KILL_IN_WRITE=<index>:<instant>` in a phase; `path` is what that write replaces, `kind` what
/// kind of write it is (`CrashSampling.kind`).
struct WriteKillPoint: Sendable, CustomTestStringConvertible {
    var phase: CrashPhase
    var index: Int
    var afterRename: Bool
    var path: String
    var kind: String

    var switchValue: String { "\(index):\(afterRename ? "after" : "before")" }
    var testDescription: String { "\(phase.rawValue) \(switchValue) \(path) (\(kind))" }
}

/// How much of the crash matrix runs: a sample by default, all of it with `SSLM_CRASH_TEST_FULL=1` in the
/// environment of `swift test` (Tests/README.md).
enum CrashSampling {
    static var full: Bool { ProcessInfo.processInfo.environment["SSLM_CRASH_TEST_FULL"] == "1" }
    static var allWrites: Bool { ProcessInfo.processInfo.environment["SSLM_CRASH_TEST_ALL_WRITES"] == "1" }

    /// Random kill instants: one per phase by default.
    static var randomInstants: Int { full ? 15 : CrashPhase.allCases.count }

    /// Of `1...count`: all, or the first, the middle and the last.
    static func actionCounts(_ count: Int) -> [Int] {
        full ? Array(1...count) : Array(Set([1, (count + 1) / 2, count])).sorted()
    }

    /// The kind of a crash-safe write, from its path and what was there before and after the uninterrupted
    /// run: the tree (`certs`, `prod-certs`, `dns`, `.sslm`), the thing (`link`: a `curr`/`next`/`prev` switch
    /// below `certs/`; `set`: a production `curr/` or `next/` directory, copied in, swapped or removed as a
    /// whole; else `file`) and the effect (`new`, `replaced`, `removed`, or `transient`: made and gone again
    /// within the run). For example `prod-certs set replaced` is a production swap, `certs link new` a link
    /// switch to a new `next`.
    static func kind(of path: String, before: FileKind, after: FileKind) -> String {
        let components = path.split(separator: "/").map(String.init)
        let tree = components.first ?? ""
        let name = components.last ?? ""
        let thing: String
        if tree == "certs", ["curr", "next", "prev"].contains(name) {
            thing = "link"
        } else if tree == "prod-certs", ["curr", "next"].contains(name) {
            thing = "set"
        } else {
            thing = "file"
        }
        let effect: String
        switch (before == .missing, after == .missing) {
        case (true, false): effect = "new"
        case (false, false): effect = "replaced"
        case (false, true): effect = "removed"
        case (true, true): effect = "transient"
        }
        return "\(tree) \(thing) \(effect)"
    }
}

/// The starting topdir of each phase and an uninterrupted apply of the phase's plan, made once: the figures
/// and shape of the result.
actor CrashReference {
    static let shared = CrashReference()

    struct Value: Sendable {
        var environment: [String: String]
        var actionCount: Int
        /// The path of each write, in order (`writes[0]` is write 1).
        var writes: [String]
        /// `CrashSampling.kind` of each write.
        var writeKinds: [String]
        var duration: Duration
        var shape: Set<String>
        /// Invariants broken by the uninterrupted run itself.
        var violations: [String]

        var writeCount: Int { writes.count }
    }

    private let installedAt = Date()
    private var starts: [CrashPhase: String] = [:]
    private var values: [CrashPhase: Value] = [:]

    /// Every action of every phase with `SSLM_CRASH_TEST_FULL=1`; else the first, the middle and the last action
    /// of each phase (per-action coverage is the in-process `CrashResumeTests`).
    func actionKillPoints() throws -> [ActionKillPoint] {
        try CrashPhase.allCases.flatMap { phase in
            CrashSampling.actionCounts(max(try value(phase).actionCount, 1)).map {
                ActionKillPoint(phase: phase, count: $0)
            }
        }
    }

    /// By default, per phase: both instants (before and after the rename) of the first write of each kind
    /// (`CrashSampling.kind`) and of the last write.
    ///
    /// With `SSLM_CRASH_TEST_FULL=1`, also: both instants of every switch of a `curr`, `next` or `prev` link, of every
    /// production directory swap or removal (the writes that move a whole set) and of the last write; every
    /// third other file write, alternately before and after its rename. With `SSLM_CRASH_TEST_ALL_WRITES=1`:
    /// both instants of every write.
    func writeKillPoints() throws -> [WriteKillPoint] {
        try CrashPhase.allCases.flatMap { phase in
            let value = try value(phase)
            let writes = value.writes
            var otherFiles = 0
            var kindsSeen: Set<String> = []
            return writes.enumerated().flatMap { offset, path -> [WriteKillPoint] in
                let index = offset + 1
                let kind = value.writeKinds[offset]
                func both() -> [WriteKillPoint] {
                    [false, true].map {
                        WriteKillPoint(phase: phase, index: index, afterRename: $0, path: path, kind: kind)
                    }
                }
                if CrashSampling.allWrites || index == writes.count || kindsSeen.insert(kind).inserted { return both() }
                guard CrashSampling.full else { return [] }
                if ["curr", "next", "prev"].contains((path as NSString).lastPathComponent) { return both() }
                otherFiles += 1
                guard otherFiles % 3 == 1 else { return [] }
                return [
                    WriteKillPoint(phase: phase, index: index, afterRename: otherFiles % 2 == 0, path: path, kind: kind)
                ]
            }
        }
    }

    /// A new copy of the topdir the phase starts from.
    func copyOfStart(_ phase: CrashPhase) throws -> String {
        try copy(of: try start(of: phase))
    }

    /// A new copy of a topdir (links, modes and times kept).
    func copy(of start: String, into root: String? = nil) throws -> String {
        try ScratchTopdir(at: start).copy(prefix: "sslm-crash", into: root)
    }

    func value(_ phase: CrashPhase) throws -> Value {
        if let cached = values[phase] { return cached }
        let topdir = try copyOfStart(phase)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let environment = phase.environment(installedAt: installedAt)
        let clock = ContinuousClock()
        let begin = clock.now
        // A write index the run never reaches: nothing is killed, and sslm lists the writes it made.
        let run = try CrashChild.run(
            topdir, environment: environment.merging(["SSLM_FAULT_KILL_IN_WRITE": "1000000000"]) { $1 })
        let duration = clock.now - begin
        guard run.status == 0, !run.killed else {
            throw CrashTestError("\(phase.rawValue): the uninterrupted apply failed: \(run.output)")
        }
        let writes = run.output.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("write "), let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[line.index(colon, offsetBy: 2)...]).replacingOccurrences(of: topdir + "/", with: "")
        }
        guard let actions = Self.number(in: run.output, before: " action(s): "),
            Self.number(in: run.output, before: " writes, none is number") == writes.count
        else {
            throw CrashTestError("\(phase.rawValue): cannot read the action and write counts from: \(run.output)")
        }
        let startTopdir = try start(of: phase)
        let kinds = writes.map {
            CrashSampling.kind(
                of: $0, before: FileKind.of(startTopdir + "/" + $0), after: FileKind.of(topdir + "/" + $0))
        }
        let value = Value(
            environment: environment, actionCount: actions, writes: writes, writeKinds: kinds, duration: duration,
            shape: try CrashShape.of(topdir: topdir), violations: CrashInvariants.violations(topdir: topdir))
        values[phase] = value
        return value
    }

    /// The topdir a phase starts from: the example for `install`, else the result of the phase before.
    private func start(of phase: CrashPhase) throws -> String {
        if let made = starts[phase] { return made }
        let made: String
        if let index = CrashPhase.allCases.firstIndex(of: phase), index > 0 {
            let before = CrashPhase.allCases[index - 1]
            made = try copy(of: try start(of: before), into: CrashTopdir.templateRoot)
            let run = try CrashChild.run(made, environment: before.environment(installedAt: installedAt))
            guard run.status == 0, !run.killed else {
                throw CrashTestError(
                    "\(before.rawValue): the apply that prepares \(phase.rawValue) failed: \(run.output)")
            }
        } else {
            // An EC key instead of RSA-4096, whose generation would dominate the runs of this suite.
            made = try ExampleTopdir.make("sslm-crash", ecKeys: true, in: CrashTopdir.templateRoot)
        }
        starts[phase] = made
        return made
    }

    /// The integer right before `marker` in `text`.
    private static func number(in text: String, before marker: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[..<range.lowerBound].reversed().prefix { $0.isNumber }
        return Int(String(digits.reversed()))
    }
}

/// Where the phases' starting topdirs (`ExampleTopdir` and the applies after it) are kept.
enum CrashTopdir {
    /// The starting topdirs of the phases, for the whole test process; removed when it exits.
    static let templateRoot: String = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-crash-starts-\(getpid())").path
        atexit { try? FileManager.default.removeItem(atPath: CrashTopdir.templateRoot) }
        return root
    }()
}

/// `sslm apply --topdir <topdir>` as a child process that may be killed.
enum CrashChild {
    /// An environment entry that is not passed on: extra `apply` arguments, separated by spaces.
    static let argumentsKey = "SSLM_CRASH_TEST_APPLY_ARGUMENTS"
    struct Result {
        var killed: Bool
        var status: Int32
        var output: String
    }

    /// Runs to the end (or to a fault-injection kill).
    static func run(_ topdir: String, environment: [String: String] = [:]) throws -> Result {
        finish(try start(topdir, environment: environment).wait())
    }

    /// Sends SIGKILL after `delay` unless the run has ended by then.
    static func run(_ topdir: String, environment: [String: String], killAfter delay: Duration) async throws -> Result {
        let child = try start(topdir, environment: environment)
        try await Task.sleep(for: delay)
        child.signal(SIGKILL)
        return finish(child.wait())
    }

    /// stdout and stderr in one stream; the fault switches of the test runner's environment are not passed on.
    private static func start(_ topdir: String, environment: [String: String]) throws -> ScriptRunner.RunningProgram {
        let extra = environment[argumentsKey]?.split(separator: " ").map(String.init) ?? []
        return try ScriptRunner.start(
            [SSLMProcess.executable, "apply", "--topdir", topdir] + extra,
            environment: environment.filter { $0.key != argumentsKey },
            unsetting: ["SSL_MGR_TOPDIR", "SSLM_FAULT_KILL_AFTER_ACTIONS", "SSLM_FAULT_KILL_IN_WRITE"],
            combinedOutput: true, searchPath: false)
    }

    private static func finish(_ outcome: ScriptRunner.Outcome) -> Result {
        Result(killed: outcome.killed, status: outcome.signal ?? outcome.status, output: outcome.stdout)
    }
}

/// What must hold on disk at every instant, interrupted or not.
enum CrashInvariants {
    /// Broken promises, each a sentence naming the path:
    /// - every `cert.pem` in `certs/<g>/<s>/db/*` has a `privkey.pem` beside it that belongs to it (and a
    ///   `bundle.pem` there holds that pair);
    /// - every production `curr/` and `next/` holding a key and a certificate holds a matching pair (so does
    ///   its `bundle.pem`), and one with a leaf certificate also holds its key;
    /// - `curr`, `next` and `prev` are links to existing directories, and `curr` and `next` never to the same
    ///   one (a roll half done).
    static func violations(topdir: String) -> [String] {
        var found: [String] = []
        for service in serviceDirectories(topdir + "/certs") {
            if kind(service + "/next") == .symlink,
                let curr = try? FileManager.default.destinationOfSymbolicLink(atPath: service + "/curr"),
                let next = try? FileManager.default.destinationOfSymbolicLink(atPath: service + "/next"),
                (curr as NSString).lastPathComponent == (next as NSString).lastPathComponent
            {
                found.append("\(relative(service, topdir)): curr and next point to the same directory")
            }
            for link in ["curr", "next", "prev"] {
                let path = service + "/" + link
                switch kind(path) {
                case .missing: continue
                case .symlink:
                    var info = stat()
                    if stat(path, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR {
                        found.append("\(relative(path, topdir)) is a dangling link")
                    }
                default: found.append("\(relative(path, topdir)) is not a link")
                }
            }
            for name in entries(service + "/db") where kind(service + "/db/" + name) == .directory {
                found += pairProblems(in: service + "/db/" + name, topdir: topdir, keyRequired: true)
            }
        }
        for service in serviceDirectories(topdir + "/prod-certs") {
            let isCA = (service as NSString).deletingLastPathComponent.hasSuffix("/ca")
            for slot in ["curr", "next"] where kind(service + "/" + slot) == .directory {
                found += pairProblems(in: service + "/" + slot, topdir: topdir, keyRequired: !isCA)
            }
        }
        return found
    }

    /// `db` directory → its `privkey.pem` bytes, for every db directory that holds a certificate.
    static func issuedKeys(topdir: String) -> [String: Data] {
        var keys: [String: Data] = [:]
        for service in serviceDirectories(topdir + "/certs") {
            for name in entries(service + "/db") where kind(service + "/db/" + name + "/cert.pem") == .file {
                let directory = service + "/db/" + name
                keys[relative(directory, topdir)] = FileManager.default.contents(atPath: directory + "/privkey.pem")
            }
        }
        return keys
    }

    /// Production files that differ from the file of the same name in the `certs/` directory of that slot.
    static func productionDrift(topdir: String) -> [String] {
        var drift: [String] = []
        for service in serviceDirectories(topdir + "/prod-certs") {
            let certs = topdir + "/certs/" + relative(service, topdir + "/prod-certs")
            for slot in ["curr", "next"] where kind(service + "/" + slot) == .directory {
                for name in entries(service + "/" + slot) {
                    let file = service + "/" + slot + "/" + name
                    if FileManager.default.contents(atPath: file)
                        != FileManager.default.contents(atPath: certs + "/" + slot + "/" + name)
                    {
                        drift.append(relative(file, topdir))
                    }
                }
            }
        }
        return drift
    }

    private static func pairProblems(in directory: String, topdir: String, keyRequired: Bool) -> [String] {
        let certificatePath = directory + "/cert.pem"
        let keyPath = directory + "/privkey.pem"
        let bundlePath = directory + "/bundle.pem"
        let place = relative(directory, topdir)
        guard kind(certificatePath) == .file else {
            return kind(bundlePath) == .file ? ["\(place) has bundle.pem but no cert.pem"] : []
        }
        guard kind(keyPath) == .file else { return keyRequired ? ["\(place) has cert.pem but no privkey.pem"] : [] }
        var problems: [String] = []
        do {
            let key = try KeyPair.read(path: keyPath)
            guard let certificate = try CertificatePEM.read(path: certificatePath).first else {
                return ["\(place)/cert.pem holds no certificate"]
            }
            if !key.matches(certificate.publicKey) {
                problems.append("\(place): privkey.pem does not belong to cert.pem")
            }
            if kind(bundlePath) == .file {
                let bytes = [UInt8](FileManager.default.contents(atPath: bundlePath) ?? Data())
                let blocks = try PEMBlock.parseAll(bytes, file: bundlePath)
                let bundleKey = try KeyPair(pem: String(decoding: bytes, as: UTF8.self), file: bundlePath)
                guard let first = blocks.first(where: { $0.label == "CERTIFICATE" }) else {
                    return problems + ["\(place)/bundle.pem holds no certificate"]
                }
                let bundleCertificate = try CertificatePEM.decode(first, file: bundlePath)
                if !bundleKey.matches(bundleCertificate.publicKey) || bundleCertificate != certificate
                    || !bundleKey.matches(key.publicKey)
                {
                    problems.append("\(place): bundle.pem is not the pair of privkey.pem and cert.pem")
                }
            }
        } catch {
            problems.append("\(place): unreadable key or certificate: \(error)")
        }
        return problems
    }

    /// `<root>/<group>/<service>` directories (hidden names skipped).
    static func serviceDirectories(_ root: String) -> [String] {
        entries(root).filter { !$0.hasPrefix(".") && kind(root + "/" + $0) == .directory }.flatMap { group in
            entries(root + "/" + group).filter {
                !$0.hasPrefix(".") && kind(root + "/" + group + "/" + $0) == .directory
            }
            .map { root + "/" + group + "/" + $0 }
        }
    }

    static func entries(_ directory: String) -> [String] { ScratchTopdir.entries(directory) }

    static func kind(_ path: String) -> FileKind { FileKind.of(path) }

    static func relative(_ path: String, _ root: String) -> String {
        path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }
}

/// The shape of a topdir's output, comparable between runs made at different times with different keys:
/// every path under `certs/`, `prod-certs/` and `dns/` (hidden leftovers included) with dated directory
/// names replaced by `<db>`; link targets; the files of the directory each `curr`/`next`/`prev` points to;
/// and per service the file lists of its non-empty db directories. (An empty db directory is the documented
/// trace of a crash inside `create_next`, removed by `clean`.)
enum CrashShape {
    static func of(topdir: String) throws -> Set<String> {
        var shape: Set<String> = []
        for root in ["certs", "prod-certs", "dns"] {
            walk(topdir + "/" + root, topdir: topdir, into: &shape)
        }
        for service in CrashInvariants.serviceDirectories(topdir + "/certs") {
            let name = CrashInvariants.relative(service, topdir)
            for link in ["curr", "next", "prev"] where CrashInvariants.kind(service + "/" + link) == .symlink {
                let files = CrashInvariants.entries(service + "/" + link + "/")
                shape.insert("\(name)/\(link)/ = \(files.joined(separator: " "))")
            }
            let lists = CrashInvariants.entries(service + "/db").map {
                CrashInvariants.entries(service + "/db/" + $0).joined(separator: " ")
            }.filter { !$0.isEmpty }.sorted()
            shape.insert("\(name)/db = [\(lists.joined(separator: "] ["))]")
        }
        return shape
    }

    private static func walk(_ path: String, topdir: String, into shape: inout Set<String>) {
        let name = CrashInvariants.relative(path, topdir)
        if name.contains("/db/") { return }  // db directories: summarised by `of(topdir:)`
        switch CrashInvariants.kind(path) {
        case .missing: return
        case .symlink:
            shape.insert(undated(name + " -> " + (FileManager.default.destinationOfSymbolicLinkSafe(path) ?? "?")))
        case .directory:
            shape.insert(undated(name + "/"))
            for entry in CrashInvariants.entries(path) { walk(path + "/" + entry, topdir: topdir, into: &shape) }
        default: shape.insert(undated(name))
        }
    }

    private static func undated(_ text: String) -> String {
        text.replacing(/[0-9]{8}-[0-9]{2}:[0-9]{2}:[0-9]{2}/, with: "<db>")
    }
}

extension FileManager {
    fileprivate func destinationOfSymbolicLinkSafe(_ path: String) -> String? {
        try? destinationOfSymbolicLink(atPath: path)
    }
}

struct CrashTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    fileprivate var milliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}
