import Foundation
import SSLMCore
import SSLMPKI
import SSLMPlan
import SSLMTestSupport
import Testing

@testable import SSLMApply

/// Crash resume (Docs/architecture.md "Apply", Docs/apply.md): stop after every action — with the journal showing the action done,
/// or not (a crash between the work and its journal record, so the action runs again on resume) — then
/// apply the same plan again and compare with an uninterrupted run.
@Suite(
    "Crash after any action, then resume",
    .enabled(if: TestTier.full, "the in-process crash matrix (one apply pair per action): not in make check"))
struct CrashResumeTests {
    static let actionCount = Plans.freshInstall().count

    /// Names of files (not contents: keys differ per run) and links of the finished tree, with dated names
    /// replaced by `<db>`. A crash inside `create_next` leaves one extra, empty dated directory (the resumed
    /// run makes the next free name); it collapses into `<db>` here, and `clean` removes it later.
    static func shape(_ fixture: ApplyFixture) -> Set<String> {
        let dated = /[0-9]{8}-[0-9]{2}:[0-9]{2}:[0-9]{2}/
        return Set(
            fixture.snapshot().map { path, value in
                let entry = value.hasPrefix("-> ") ? path + " " + value : path
                return entry.replacing(dated, with: "<db>")
            })
    }

    @Test(
        "resume after a crash converges to the uninterrupted result",
        arguments: Array(1..<actionCount), [false, true])
    func crashThenResume(after count: Int, lostLastRecord: Bool) async throws {
        let fixture = try ApplyFixture()
        let plan = Plans.plan(Plans.freshInstall())
        let crashed = try await fixture.executor { $0.haltAfterActions = count }.apply(plan)
        #expect(crashed.results.count == count)
        if lostLastRecord {
            // The last action did its work, but its `ok` never reached the journal.
            let journal = fixture.path + "/.sslm/journal.jsonl"
            let lines = try #require(fixture.read(journal)).split(separator: "\n")
            #expect(lines.last?.contains("\"event\":\"ok\"") == true)
            try Data((lines.dropLast().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: journal))
        }
        let resumed = try await fixture.executor().apply(plan)
        #expect(resumed.succeeded, "\(resumed.failures)")
        let repeated = resumed.results.filter { $0.outcome != .alreadyApplied }.count
        #expect(repeated == Self.actionCount - count + (lostLastRecord ? 1 : 0))

        let root = fixture.file("ca/root", "curr", "cert.pem")
        let int = fixture.file("ca/int", "curr", "cert.pem")
        let leaf = fixture.file("example.com/mail", "curr", "cert.pem")
        let verify = try runTool(
            "/usr/bin/openssl",
            [
                "verify", "-attime", String(Int(ApplyFixture.now.timeIntervalSince1970) + 60), "-CAfile", root,
                "-untrusted", int, leaf,
            ])
        #expect(verify.status == 0, "\(verify.output)")
        let prodMail = fixture.prod + "/example.com/mail/curr"
        try KeyCertificateMatch.require(keyPath: prodMail + "/privkey.pem", certificatePath: prodMail + "/cert.pem")
        #expect(fixture.read(prodMail + "/cert.pem") == fixture.read(leaf))
        #expect(
            fixture.read(fixture.prod + "/example.com/tlsa.example.com")
                == fixture.read(fixture.path + "/certs/example.com/tlsa.example.com"))

        #expect(Self.shape(fixture) == (try await ReferenceRun.shared.shape()))
    }
}

/// The shape of an uninterrupted fresh install, computed once for all cases.
actor ReferenceRun {
    static let shared = ReferenceRun()
    private var cached: Set<String>?

    func shape() async throws -> Set<String> {
        if let cached { return cached }
        let reference = try ApplyFixture()
        let report = try await reference.executor().apply(Plans.plan(Plans.freshInstall()))
        guard report.succeeded else { throw SSLMError(.ioFailure, "reference run failed: \(report.failures)") }
        let shape = CrashResumeTests.shape(reference)
        cached = shape
        return shape
    }
}
