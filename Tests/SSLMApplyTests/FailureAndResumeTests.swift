import Foundation
import SSLMApply
import SSLMCore
import SSLMPKI
import SSLMPlan
import Testing

@Suite("Failures, skipped dependents, resume, lock and refusals")
struct FailureAndResumeTests {
    /// The intermediate cannot be signed (no root yet); the mail leaf waits for it; the web leaf is independent.
    static func failingPlan() -> Plan {
        Plans.plan(
            Plans.build("ca/int", signer: "root")
                + Plans.build("example.com/mail", signer: "int", tlsa: true, after: ["ca/int/roll"])
                + Plans.build("example.net/web", signer: "self"))
    }

    @Test("a failing action skips its dependents; independent services complete")
    func failureSkipsDependents() async throws {
        let fixture = try ApplyFixture()
        let report = try await fixture.executor().apply(Self.failingPlan())
        #expect(!report.succeeded)
        #expect(report.outcome("ca/int/next/csr") == .succeeded(detail: nil))
        guard case .failed(let reason)? = report.outcome("ca/int/next/cert") else {
            Issue.record("ca/int/next/cert did not fail: \(String(describing: report.outcome("ca/int/next/cert")))")
            return
        }
        #expect(reason.contains("certs/ca/root/curr does not exist"))
        #expect(report.outcome("ca/int/next/bundle") == .skipped(dependency: "ca/int/next/cert"))
        #expect(report.outcome("ca/int/roll") == .skipped(dependency: "ca/int/next/bundle"))
        // The leaf builds its key and CSR, but is not signed by a CA that did not roll.
        #expect(report.outcome("example.com/mail/next/csr")?.isSuccess == true)
        #expect(report.outcome("example.com/mail/next/cert") == .skipped(dependency: "ca/int/roll"))
        #expect(report.outcome("example.com/mail/roll") == .skipped(dependency: "example.com/mail/next/tlsa"))
        for action in Plans.build("example.net/web", signer: "self") {
            #expect(report.outcome(action.id)?.isSuccess == true, "\(action.id)")
        }
        #expect(fixture.link("example.net/web", "curr") != nil)
        #expect(fixture.link("ca/int", "curr") == nil)
        #expect(fixture.link("ca/int", "next") != nil, "the incomplete next stays for the next run")
        #expect(report.failures.map(\.id) == ["ca/int/next/cert"])
        let journal = Journal.records(topdir: fixture.path)
        #expect(journal.contains { $0.action == "ca/int/next/cert" && $0.event == .failed })
        #expect(journal.contains { $0.action == "ca/int/roll" && $0.event == .skipped })
    }

    @Test("re-applying a failed plan resumes: done actions are not repeated, the rest runs")
    func resumeAfterFailure() async throws {
        let fixture = try ApplyFixture()
        let plan = Self.failingPlan()
        let first = try await fixture.executor().apply(plan)
        #expect(!first.succeeded)
        let intNext = try #require(fixture.link("ca/int", "next"))
        let intKey = fixture.read(fixture.file("ca/int", "next", "privkey.pem"))

        // Fix the cause: the root now exists.
        let root = try await fixture.executor().apply(Plans.plan(Plans.build("ca/root", signer: "self")))
        #expect(root.succeeded, "\(root.failures)")

        let later = ApplyFixture.now.addingTimeInterval(600)
        let second = try await fixture.executor(now: later).apply(plan)
        #expect(second.succeeded, "\(second.failures)")
        #expect(second.outcome("ca/int/next/dir") == .alreadyApplied)
        #expect(second.outcome("ca/int/next/key") == .alreadyApplied)
        #expect(second.outcome("example.net/web/roll") == .alreadyApplied)
        #expect(second.outcome("ca/int/next/cert")?.isSuccess == true)
        #expect(second.outcome("ca/int/next/cert") != .alreadyApplied)
        // The directory made by the first run is the one rolled (known after apply, from the journal).
        #expect(fixture.link("ca/int", "curr") == intNext)
        #expect(fixture.read(fixture.file("ca/int", "curr", "privkey.pem")) == intKey)
        #expect(fixture.link("example.com/mail", "curr") != nil)
    }

    @Test("a roll interrupted after curr moved (next still there) completes without losing prev")
    func rollIsIdempotent() async throws {
        let fixture = try ApplyFixture()
        let first = try await fixture.executor().apply(Plans.plan(Plans.build("example.net/web", signer: "self")))
        #expect(first.succeeded)
        let oldCurr = try #require(fixture.link("example.net/web", "curr"))
        let later = ApplyFixture.now.addingTimeInterval(86_400)
        let build = try await fixture.executor(now: later).apply(
            Plans.plan(Plans.build("example.net/web", signer: "self", roll: false)))
        #expect(build.succeeded)
        let newNext = try #require(fixture.link("example.net/web", "next"))
        // Simulate a crash inside the roll: prev ← curr and curr ← next done, next not yet removed.
        let dir = fixture.serviceDir("example.net/web")
        try FileManager.default.removeItem(atPath: dir + "/curr")
        try FileManager.default.createSymbolicLink(atPath: dir + "/prev", withDestinationPath: "db/" + oldCurr)
        try FileManager.default.createSymbolicLink(atPath: dir + "/curr", withDestinationPath: "db/" + newNext)

        let roll = Action(
            id: "example.net/web/roll", service: "example.net/web",
            payload: .roll(next: newNext), reason: Plans.reason)
        let report = try await fixture.executor(now: later).apply(Plans.plan([roll]))
        #expect(report.succeeded, "\(report.failures)")
        #expect(fixture.link("example.net/web", "curr") == newNext)
        #expect(fixture.link("example.net/web", "prev") == oldCurr)
        #expect(fixture.link("example.net/web", "next") == nil)
        #expect(fixture.exists(fixture.file("example.net/web", "curr", "info")))
    }

    @Test("a roll whose next lacks a required file fails and leaves the links alone")
    func rollRequiresAllFiles() async throws {
        let fixture = try ApplyFixture()
        let report = try await fixture.executor().apply(
            Plans.plan(
                Plans.build("example.net/web", signer: "self", roll: false)
                    + [
                        Action(
                            id: "example.net/web/roll", service: "example.net/web",
                            payload: .roll(next: nil), reason: Plans.reason)
                    ]))
        #expect(report.succeeded)
        let curr = try #require(fixture.link("example.net/web", "curr"))
        let later = ApplyFixture.now.addingTimeInterval(3600)
        _ = try await fixture.executor(now: later).apply(
            Plans.plan(
                Array(Plans.build("example.net/web", signer: "self", roll: false).prefix(4))))  // no bundle
        let next = try #require(fixture.link("example.net/web", "next"))
        let roll = Action(
            id: "example.net/web/roll", service: "example.net/web",
            payload: .roll(next: next), reason: Plans.reason)
        let failed = try await fixture.executor(now: later).apply(Plans.plan([roll], fingerprint: "sha256:other"))
        guard case .failed(let reason)? = failed.outcome("example.net/web/roll") else {
            Issue.record("roll did not fail")
            return
        }
        #expect(reason.contains("bundle.pem"))
        #expect(fixture.link("example.net/web", "curr") == curr)
        #expect(fixture.link("example.net/web", "next") == next)
    }

    @Test("another instance holding the lock: apply waits, then fails with a clear message")
    func lockTimeout() async throws {
        let fixture = try ApplyFixture()
        let held = try await ApplyLock.acquire(topdir: fixture.path, timeout: .seconds(1))
        defer { held.release() }
        let executor = fixture.executor { $0.lockTimeout = .milliseconds(300) }
        do {
            _ = try await executor.apply(Plans.plan(Plans.build("example.net/web", signer: "self")))
            Issue.record("apply ran although the lock was held")
        } catch let error as SSLMError {
            #expect(error.message.contains("another sslm is running"))
            #expect(error.message.contains(".sslm/lock"))
        }
        #expect(fixture.link("example.net/web", "next") == nil)
        held.release()
        let report = try await executor.apply(Plans.plan(Plans.build("example.net/web", signer: "self")))
        #expect(report.succeeded)
    }

    @Test("a plan for another topdir (lineage) is refused before anything runs")
    func lineageMismatch() async throws {
        let fixture = try ApplyFixture()
        let plan = Plans.plan(
            Plans.build("example.net/web", signer: "self"), lineage: "00000000-0000-0000-0000-000000000000")
        await #expect(throws: SSLMError(.invalidArgument, "")) {
            _ = try await fixture.executor().apply(plan)
        }
        #expect(!fixture.exists(fixture.serviceDir("example.net/web")))
    }

    @Test("a plan whose dependency is not an earlier action is refused")
    func malformedPlan() async throws {
        let fixture = try ApplyFixture()
        let actions = Array(Plans.build("example.net/web", signer: "self").reversed())
        await #expect(throws: SSLMError(.malformedInput, "")) {
            _ = try await fixture.executor().apply(Plans.plan(actions))
        }
        #expect(!fixture.exists(fixture.path + "/.sslm/journal.jsonl"))
    }

    @Test("an ACME action for a service whose CA is not an ACME CA fails with the reason; its dependents are skipped")
    func acmeActionForALocalCA() async throws {
        let fixture = try ApplyFixture()
        let order = Action(
            id: "example.com/mail/next/order", service: "example.com/mail",
            payload: .acmeOrder(
                .init(
                    ca: "int", type: .http01, identifiers: [], directory: "https://acme.invalid/dir",
                    profile: .named("tlsserver"), preferredChain: nil, replacesCurrent: false)),
            reason: Plans.reason)
        let answer = Action(
            id: "example.com/mail/next/answer", service: "example.com/mail", payload: .answerChallenges(type: .http01),
            reason: Plans.reason, dependsOn: [order.id])
        let report = try await fixture.executor().apply(Plans.plan([order, answer]))
        guard case .failed(let reason)? = report.outcome(order.id) else {
            Issue.record("acme_order did not fail")
            return
        }
        #expect(reason.contains("is not an ACME CA"))
        #expect(report.outcome(answer.id) == .skipped(dependency: order.id))
    }
}
