import Foundation
import SSLMCore
import Testing

@testable import SSLMPlan

/// The precedence of the renewal and roll chains: when several policies fire, the first in the chain
/// gives the reason. Each case names the winner; `reason` is the code the action (or note) must carry.
struct PrecedenceCase: Sendable, CustomStringConvertible {
    var name: String
    var planCase: PlanCase
    /// An action id, or `note:<subject>` for a note.
    var subject: String
    var reason: String

    var description: String { name }
}

let precedenceCases: [PrecedenceCase] = [
    PrecedenceCase(
        name: "a config change outranks a due renewal",
        planCase: PlanCase(
            name: "p1", edits: ["example.com/web-ec": [("sans = [", "sans = ['shop.example.com', ")]],
            now: T0 + 55 * day, targets: ["example.com:web-ec"], state: { inSync(&$0) }),
        subject: "example.com/web-ec/next/dir", reason: "config_changed"),
    PrecedenceCase(
        name: "a due renewal outranks --force",
        planCase: PlanCase(
            name: "p2", now: T0 + 55 * day, targets: ["example.com:web-ec"], force: true, state: { inSync(&$0) }),
        subject: "example.com/web-ec/next/dir", reason: "renewal_due"),
    PrecedenceCase(
        name: "--force renews a curr that is not due",
        planCase: PlanCase(name: "p3", targets: ["example.com:web-ec"], force: true, state: { inSync(&$0) }),
        subject: "example.com/web-ec/next/dir", reason: "forced"),
    PrecedenceCase(
        name: "nothing fires: a note says when curr is due",
        planCase: PlanCase(name: "p4", targets: ["example.com:web-ec"], state: { inSync(&$0) }),
        subject: "note:example.com/web-ec", reason: "not_due"),
    PrecedenceCase(
        name: "--phase renew keeps an old enough next waiting",
        planCase: PlanCase(
            name: "p5", targets: ["example.com:web-ec"], phase: .renew,
            state: { b in
                inSync(&b)
                b.issue("example.com/web-ec", slot: "next", at: T0 - 1 * day)
                b.syncEverything()
            }),
        subject: "note:example.com/web-ec", reason: "phase_skipped"),
    PrecedenceCase(
        name: "--force in --phase roll outranks min_roll_mins",
        planCase: PlanCase(
            name: "p6", targets: ["example.com:web-ec"], phase: .roll, force: true,
            state: { b in
                inSync(&b)
                b.issue("example.com/web-ec", slot: "next", at: T0 - 1 * minute)
                b.syncEverything()
            }),
        subject: "example.com/web-ec/roll", reason: "forced"),
    PrecedenceCase(
        name: "an old enough next rolls",
        planCase: PlanCase(
            name: "p7", targets: ["example.com:web-ec"],
            state: { b in
                inSync(&b)
                b.issue("example.com/web-ec", slot: "next", at: T0 - 1 * day)
                b.syncEverything()
            }),
        subject: "example.com/web-ec/roll", reason: "next_ready"),
]

@Suite("Renewal and roll precedence")
struct PrecedenceTests {
    @Test(arguments: precedenceCases)
    func firstPolicyWins(_ testCase: PrecedenceCase) throws {
        let (plan, _) = try GoldenPlanTests.makePlan(testCase.planCase)
        if testCase.subject.hasPrefix("note:") {
            let subject = String(testCase.subject.dropFirst(5))
            let codes = plan.notes.filter { $0.subject == subject }.map(\.reason.code)
            #expect(codes.contains(testCase.reason), "notes of \(subject): \(codes)")
        } else {
            let action = try #require(plan.action(testCase.subject), "plan has \(plan.actions.map(\.id))")
            #expect(action.reason.code == testCase.reason, "\(action.reason.message)")
        }
    }

    @Test func chainsAreInTheirDocumentedOrder() {
        #expect(
            RenewalChain.policies.map(\.name) == [
                "certificateDiffersFromConfig", "issuerDiffersFromConfig", "issuerChanged", "certificateIsRevoked",
                "renewalWindowIsOpen", "renewalIsDue", "replacementIsRequested", "renewalIsForced",
            ])
        #expect(RollChain.policies.first?.name == "phaseIsRenew")
        #expect(RollChain.policies.last?.name == "pendingNextIsYoung")
    }
}
