import Foundation
import SSLMCore
import Testing

@testable import SSLMPlan

/// `PlanDiff`: two plans compared by what they would do, not by their text.
@Suite struct PlanDiffTests {
    static func plan(_ name: String) throws -> Plan {
        let testCase = try #require(planCases.first { $0.name == name }, "no plan case \(name)")
        return try GoldenPlanTests.makePlan(testCase).0
    }

    @Test func aPlanDiffersFromItselfInNothingAtAnotherTime() throws {
        let plan = try Self.plan("renewal-due-90d")
        var later = plan
        later.now = "2030-01-01T00:00:00Z"
        later.base.fingerprint = "sha256:" + String(repeating: "0", count: 64)
        later.configDigest = "sha256:" + String(repeating: "1", count: 64)
        later.actions = later.actions.map { action in
            var action = action
            action.reason.message = "another sentence"
            return action
        }
        later.notes = []
        #expect(PlanDiff(old: plan, new: later).isEmpty)
    }

    @Test func addedAndRemovedActionsAreListedPerService() throws {
        let quiet = try Self.plan("in-sync")
        let due = try Self.plan("renewal-due-90d")
        let diff = PlanDiff(old: quiet, new: due)
        #expect(diff.entries.count == due.actions.count)
        #expect(diff.entries.allSatisfy { $0.change == .added })
        let subjects = diff.bySubject.map(\.subject)
        #expect(subjects.contains("example.com/mail-ec") && subjects.contains("example.com"), "\(subjects)")
        let backwards = PlanDiff(old: due, new: quiet)
        #expect(backwards.entries.count == due.actions.count && backwards.entries.allSatisfy { $0.change == .removed })
        #expect(backwards.entries.first?.details.first?.isEmpty == false, "a removed action keeps its reason")
    }

    @Test func aChangedParameterIsNamedWithBothValues() throws {
        let fresh = try Self.plan("fresh-install")
        let index = try #require(fresh.actions.firstIndex { $0.id == "example.com/web-ec/next/csr" })
        var edited = fresh
        edited.actions[index].payload = .createCSR(sans: ["example.com", "www.example.com", "shop.example.com"])
        edited.actions[index].dependsOn = []
        let diff = PlanDiff(old: fresh, new: edited)
        #expect(diff.entries.count == 1)
        let entry = try #require(diff.entries.first)
        #expect(entry.change == .changed && entry.id == "example.com/web-ec/next/csr" && entry.kind == "create_csr")
        #expect(entry.subject == "example.com/web-ec")
        #expect(
            entry.details == [
                "params.sans: [example.com, www.example.com] → [example.com, www.example.com, shop.example.com]",
                "depends_on: [example.com/web-ec/next/key] → []",
            ])
    }

    @Test func runActionsAreGroupedUnderServersAndDNS() throws {
        let plan = try Self.plan("roll-restarts-servers-before-dns")
        let diff = PlanDiff(old: try Self.plan("in-sync"), new: plan)
        let subjects = Set(diff.entries.map(\.subject))
        #expect(subjects.contains("servers") && subjects.contains("dns"), "\(subjects.sorted())")
        #expect(diff.entries.first { $0.id == "dns/refresh" }?.subject == "dns")
    }
}
