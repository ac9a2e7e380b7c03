import Foundation
import SSLMCore
import SSLMDeploy
import SSLMPlan
import SSLMTestSupport
import Testing

@testable import SSLMApply
@testable import SSLMObserve

/// Docs/apply.md "The journal": compaction keeps exactly what the journal's readers need, and a run
/// interrupted after a compaction resumes.
@Suite("Journal compaction", .enabled(if: TestTier.full, "slow (journals of 100,000 records): not in make check"))
struct JournalCompactionTests {
    private static func line(_ plan: String, _ action: String?, _ event: String, _ detail: String? = nil) -> String {
        let record = JournalRecord(
            time: "2020-01-01T00:00:00Z", plan: plan, action: action,
            event: JournalRecord.Event(rawValue: event) ?? .ok, detail: detail)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(record)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// 100,000 records of 5,000 old plans, with facts a reader needs spread among them.
    private static func syntheticJournal() -> String {
        var text = ""
        for plan in 0..<5_000 {
            let digest = "sha256:old-\(plan)"
            text += line(digest, nil, "begin", "base x")
            for index in 0..<18 {
                text += line(digest, "example.com/s\(index % 6)/next/key", index % 2 == 0 ? "start" : "ok")
            }
            text += line(digest, nil, "end", "ok")
            if plan == 10 { text += line(digest, "example.com/acme/next/order", "ok", "order-from-plan-10") }
            if plan == 20 { text += line(digest, "example.com/acme/next/order", "ok", "order-from-plan-20") }
            if plan == 21 { text += line(digest, "example.com/acme/next/order", "failed", "a later failure") }
            if plan == 30 { text += line(digest, "server/mx1/copy", "failed", "ssh: refused") }
            if plan == 40 { text += line(digest, "restart/mx1/smtp", "failed", "exit 1") }
            if plan == 41 { text += line(digest, "restart/mx1/smtp", "ok", "restarted") }
        }
        text += "{\"truncated by a crash\n"
        return text
    }

    @Test("keeps the recent plans, the newest ok of each order and the last attempt of each deployment")
    func keepsWhatReadersNeed() throws {
        let fixture = try ApplyFixture()
        let journal = fixture.path + "/.sslm/journal.jsonl"
        try FileManager.default.createDirectory(atPath: fixture.path + "/.sslm", withIntermediateDirectories: true)
        try Data(Self.syntheticJournal().utf8).write(to: URL(fileURLWithPath: journal))

        let outcome = try #require(try JournalCompaction.compact(topdir: fixture.path))
        #expect(outcome.linesBefore == 100_007)
        #expect(outcome.linesAfter == 20 * 20 + 3)
        #expect(outcome.bytesAfter < 64 * 1024, "\(outcome)")
        let records = Journal.records(topdir: fixture.path)
        #expect(Set(records.map(\.plan)).count == 20 + 3)
        #expect(records.filter { $0.plan == "sha256:old-4999" }.count == 20, "the newest plan is whole")
        #expect(!records.contains { $0.plan == "sha256:old-4979" }, "the 21st newest plan is gone")
        let orders = records.filter { $0.action == "example.com/acme/next/order" }
        #expect(orders.map(\.detail) == ["order-from-plan-20"], "the newest ok, not the later failure")
        // The failed copy of plan 30 (the restart of plan 40 succeeded later, in plan 41) is pending again; the
        // 4 MiB tail PendingDeployment reads did not reach it in the uncompacted journal.
        #expect(PendingDeployment.read(topdir: fixture.path) == ["server/mx1/copy"])

        #expect(try JournalCompaction.compact(topdir: fixture.path) == nil, "small now: left as it is")
    }

    @Test("a journal below the threshold, or mostly recent, is left alone")
    func leftAlone() throws {
        let fixture = try ApplyFixture()
        let journal = fixture.path + "/.sslm/journal.jsonl"
        try FileManager.default.createDirectory(atPath: fixture.path + "/.sslm", withIntermediateDirectories: true)
        var text = ""
        for plan in 0..<10 { for _ in 0..<10_000 { text += Self.line("sha256:p\(plan)", "example.com/a/roll", "ok") } }
        try Data(text.utf8).write(to: URL(fileURLWithPath: journal))
        #expect(try JournalCompaction.compact(topdir: fixture.path) == nil, "every plan is recent")
        #expect(try JournalCompaction.compact(topdir: fixture.path, policy: .init(recentPlans: 2)) != nil)
        #expect(Journal.records(topdir: fixture.path).count == 20_000)
    }

    @Test("a plan interrupted after its journal was compacted resumes without repeating done actions")
    func resumeAfterCompaction() async throws {
        let fixture = try ApplyFixture()
        let journal = fixture.path + "/.sslm/journal.jsonl"
        try FileManager.default.createDirectory(atPath: fixture.path + "/.sslm", withIntermediateDirectories: true)
        try Data(Self.syntheticJournal().utf8).write(to: URL(fileURLWithPath: journal))
        let plan = Plans.plan(Plans.freshInstall())
        let halted = 5
        let crashed = try await fixture.executor { $0.haltAfterActions = halted }.apply(plan)
        #expect(crashed.results.count == halted)
        let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int ?? 0
        #expect(size < 64 * 1024, "compacted before the run: \(size) bytes")

        // Old history again (as if many runs happened), then the same plan: compacted, and resumed.
        let current = try String(contentsOfFile: journal, encoding: .utf8)
        try Data((Self.syntheticJournal() + current).utf8).write(to: URL(fileURLWithPath: journal))
        let resumed = try await fixture.executor().apply(plan)
        #expect(resumed.succeeded, "\(resumed.failures)")
        #expect(resumed.results.filter { $0.outcome == .alreadyApplied }.count == halted)
    }

    @Test(
        "the fast field scan agrees with the decoder",
        arguments: [
            #"{"action":"a/b","detail":"x","event":"ok","plan":"sha256:1","time":"t"}"#,
            #"{"detail":"base","event":"begin","plan":"sha256:2","time":"t"}"#,
            #"{"action":"a","detail":"say \"plan\":\"no\"","event":"failed","plan":"sha256:3","time":"t"}"#,
            #"{ "plan" : "sha256:4", "event" : "ok" }"#,
        ])
    func fieldScan(line: String) throws {
        let bytes = Array(line.utf8)
        let scanned = JournalLineFields.scan(bytes[...])
        let decoded = try JSONDecoder().decode(JournalLineFields.self, from: Data(bytes))
        #expect(scanned == decoded)
    }

    @Test("a symlinked journal is refused by compaction and by the executor; its target is untouched")
    func symlinkedJournal() async throws {
        let fixture = try ApplyFixture()
        let victim = fixture.path + "/victim"
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.createDirectory(atPath: fixture.path + "/.sslm", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: fixture.path + "/.sslm/journal.jsonl", withDestinationPath: victim)
        #expect(throws: SSLMError(.symbolicLink, "")) { try JournalCompaction.compact(topdir: fixture.path) }
        await #expect(throws: SSLMError(.symbolicLink, "")) {
            _ = try await fixture.executor().apply(Plans.plan(Plans.freshInstall()))
        }
        #expect(fixture.read(victim) == "precious\n")
        #expect(!fixture.exists(fixture.path + "/certs"))
    }
}

/// `ProductionSync` and the handlers below `prod_cert_dir` and the topdir never write through a symlink.
@Suite("Production and certs/ writes refuse symlinks")
struct ConfinedProductionTests {
    @Test("a symlinked group directory in production: replace, copy and remove are refused")
    func productionGroupLink() throws {
        let fixture = try ApplyFixture()
        let root = fixture.path + "/prod"
        let elsewhere = fixture.path + "/elsewhere"
        let source = fixture.path + "/src"
        for directory in [root, elsewhere + "/svc/next", source] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try Data("key\n".utf8).write(to: URL(fileURLWithPath: source + "/privkey.pem"))
        try FileManager.default.createSymbolicLink(atPath: root + "/grp", withDestinationPath: elsewhere)
        #expect(throws: SSLMError(.symbolicLink, "")) {
            try ProductionSync.replaceDirectory(
                at: root + "/grp/svc/curr", copying: ["privkey.pem"], from: source, root: root)
        }
        #expect(throws: SSLMError(.symbolicLink, "")) {
            try ProductionSync.copyFile(from: source + "/privkey.pem", to: root + "/grp/tlsa.grp", root: root)
        }
        #expect(throws: SSLMError(.symbolicLink, "")) {
            try ProductionSync.removeDirectory(at: root + "/grp/svc/next", root: root)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere) == ["svc"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere + "/svc") == ["next"])
        // The root itself may be a link (the admin's choice).
        try FileManager.default.createSymbolicLink(atPath: fixture.path + "/prod-link", withDestinationPath: root)
        try ProductionSync.replaceDirectory(
            at: fixture.path + "/prod-link/other/svc/curr", copying: ["privkey.pem"], from: source,
            root: fixture.path + "/prod-link")
        #expect(fixture.read(root + "/other/svc/curr/privkey.pem") == "key\n")
    }

    @Test("a symlinked certs/<group> is refused when next is made; nothing is created through it")
    func certsGroupLink() async throws {
        let fixture = try ApplyFixture()
        let elsewhere = fixture.path + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: fixture.path + "/certs", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: fixture.path + "/certs/ca", withDestinationPath: elsewhere)
        let report = try await fixture.executor().apply(Plans.plan(Plans.freshInstall()))
        #expect(!report.succeeded)
        let first = try #require(report.failures.first)
        #expect("\(first)".contains("certs/ca: it is a symbolic link"), "\(first)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }
}
