import Foundation
import SSLMTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The topdir lock covers the whole run: a writing command takes it before it reads the config or
/// observes, so a second run never executes a plan computed before the first one finished.
@Suite(
    "The lock covers observation, planning and execution",
    .enabled(if: TestTier.full, "races pairs of sslm apply: not in make check"))
struct ApplyLockCLITests {
    /// Every service of the example (its local CAs included) with exactly one db directory, and that one
    /// is curr: nothing was issued twice.
    static func issuedOnce(_ topdir: String) -> [String] {
        var problems: [String] = []
        let services = [
            "ca/my-root", "ca/my-int", "example.com/mail-ec", "example.com/mail-rsa",
            "example.com/web-ec", "example.net/web-ec",
        ]
        for service in services {
            let db = topdir + "/certs/\(service)/db"
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: db)) ?? []).filter {
                !$0.hasPrefix(".")
            }
            if entries.count != 1 { problems.append("\(service): \(entries.count) db directories \(entries.sorted())") }
            if FileManager.default.fileExists(atPath: topdir + "/certs/\(service)/prev") {
                problems.append("\(service): has prev (it was rolled again)")
            }
        }
        return problems
    }

    /// Two applies on a fresh topdir, the second started `offset` seconds after the first, for every
    /// offset and `SSLM_LOCK_RACE_ROUNDS` rounds (default 20, as the trust issue asks; the fast tier skips this suite):
    /// both exit 0, each service is issued once, and the plan afterwards is empty.
    @Test func twoAppliesNeverIssueTwice() throws {
        let settings = ProcessInfo.processInfo.environment
        let rounds = Int(settings["SSLM_LOCK_RACE_ROUNDS"] ?? "") ?? 20
        let offsets: [Double] = [0, 0.1, 0.5, 1, 2]
        let environment = ["SSLM_NOW": "2027-01-14T12:00:00Z"]
        for round in 0..<rounds {
            for offset in offsets {
                let topdir = try ExampleTopdir.make("sslm-race")
                defer { try? FileManager.default.removeItem(atPath: topdir) }
                let label = "round \(round), offset \(offset) s"
                let firstRun = try SSLMProcess.start(["apply", "--topdir", topdir], environment: environment)
                if offset > 0 { usleep(useconds_t(offset * 1_000_000)) }
                let second = try SSLMProcess.run(["apply", "--topdir", topdir], environment: environment)
                let one = firstRun.wait()
                #expect(one.status == 0, "\(label): first apply\n\(one.stdout)\(one.stderr)")
                #expect(second.status == 0, "\(label): second apply\n\(second.stdout)\(second.stderr)")
                // Exactly one of them did the work; the other found nothing to do.
                let noChanges = [one, second].filter { $0.stdout.contains("No changes.") }.count
                #expect(noChanges == 1, "\(label):\n\(one.stdout)\n---\n\(second.stdout)")
                #expect(Self.issuedOnce(topdir) == [], "\(label)")
                let plan = try SSLMProcess.run(
                    ["plan", "--detailed-exitcode", "--topdir", topdir],
                    environment: environment)
                #expect(plan.status == 0, "\(label): \(plan.stdout)\(plan.stderr)")
            }
        }
    }

    /// While another process holds the lock, apply waits `--lock-timeout` and exits 4 having read and
    /// written nothing; once the lock is free it runs.
    @Test func aHeldLockMakesApplyWaitThenGiveUp() throws {
        let topdir = try ExampleTopdir.make("sslm-locked")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        try FileManager.default.createDirectory(atPath: topdir + "/.sslm", withIntermediateDirectories: true)
        let descriptor = open(topdir + "/.sslm/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(descriptor >= 0)
        #expect(flock(descriptor, LOCK_EX) == 0)
        let started = Date()
        let blocked = try SSLMProcess.run(["apply", "--lock-timeout", "1", "--topdir", topdir])
        let waited = Date().timeIntervalSince(started)
        #expect(blocked.status == 4, "\(blocked.stdout)\(blocked.stderr)")
        #expect(blocked.stderr.contains("another sslm is running on this topdir"), "\(blocked.stderr)")
        #expect(blocked.stderr.contains("this run did nothing"), "\(blocked.stderr)")
        #expect(waited >= 1, "it waited for the lock")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs"))
        #expect(!FileManager.default.fileExists(atPath: topdir + "/.sslm/journal.jsonl"))

        // sslm-mgr waits for the lock too (its own default wait is longer than this test: it is only
        // checked to wait, then killed by the test's time limit below).
        let mgr = topdir + "/sslm-mgr"
        try FileManager.default.createSymbolicLink(atPath: mgr, withDestinationPath: SSLMProcess.executable)
        let legacy = try SSLMProcess.run(["2", mgr, "-renew", "--topdir", topdir], executable: "/usr/bin/timeout")
        #expect(legacy.status == 124, "still waiting after 2 s: \(legacy.stdout)\(legacy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs"))

        flock(descriptor, LOCK_UN)
        close(descriptor)
        let free = try SSLMProcess.run(["apply", "--lock-timeout", "1", "--topdir", topdir])
        #expect(free.status == 0, "\(free.stdout)\(free.stderr)")
    }

    /// `apply FILE` takes the lock before it checks the plan: a plan made before another run changed the
    /// state is judged against what that run left.
    @Test func aSavedPlanIsCheckedAfterTheRunBeforeIt() throws {
        let topdir = try ExampleTopdir.make("sslm-locked-file")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let environment = ["SSLM_NOW": "2027-01-14T12:00:00Z"]
        let file = topdir + "/saved.json"
        let planned = try SSLMProcess.run(["plan", "--topdir", topdir, "-o", file], environment: environment)
        #expect(planned.status == 0, "\(planned.stdout)\(planned.stderr)")
        let firstRun = try SSLMProcess.start(["apply", "--topdir", topdir], environment: environment)
        usleep(100_000)
        let saved = try SSLMProcess.run(["apply", file, "--topdir", topdir], environment: environment)
        let one = firstRun.wait()
        // Whichever took the lock first issued; the other saw the result (the saved plan is then stale).
        let statuses = [one.status, saved.status].sorted()
        #expect(
            statuses == [0, 0] || statuses == [0, 3], "\(one.stdout)\(one.stderr)\n---\n\(saved.stdout)\(saved.stderr)")
        if saved.status == 3 { #expect(saved.stderr.contains("stale"), "\(saved.stderr)") }
        #expect(Self.issuedOnce(topdir) == [])
    }
}
