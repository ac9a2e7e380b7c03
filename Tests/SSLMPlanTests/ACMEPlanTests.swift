import Foundation
import SSLMConfig
import SSLMCore
import Testing

@testable import SSLMPlan

/// Planning ACME issuing: dns-01 challenges batched per apex with one DNS refresh for the run, http-01
/// tokens per apex, and the ACME kinds in consecutive batches the executor can run concurrently.
@Suite struct ACMEPlanTests {
    static func acmeConfig() throws -> Config { try ExampleConfig.load(acmeEdits) }

    static func plan(_ config: Config, observation: Observation? = nil) -> Plan {
        Planner.plan(
            PlanningRequest(
                config: config, observation: observation ?? StateBuilder(config: config).build(),
                now: Date(timeIntervalSince1970: 1_800_000_000), toolVersion: "test"))
    }

    @Test func freshInstallBatchesChallengesPerApexWithOneRefresh() throws {
        let plan = Self.plan(try Self.acmeConfig())
        let ids = plan.actions.map(\.id)
        #expect(!plan.notes.contains { $0.reason.message.contains("not implemented") })
        // Every dependency comes earlier.
        for (index, action) in plan.actions.enumerated() {
            for dependency in action.dependsOn {
                #expect(ids.firstIndex(of: dependency).map { $0 < index } == true, "\(action.id) → \(dependency)")
            }
        }
        let refreshes = plan.actions.filter { $0.kind == .refreshDNS && $0.id.hasPrefix("acme/") }
        #expect(refreshes.map(\.id) == ["acme/dns-01/refresh", "acme/dns-01/refresh-cleared"])
        #expect(refreshes.first?.params["domains"] == .strings(["example.com", "example.net"]))
        let publish = plan.actions.filter { $0.kind == .publishChallenges && $0.params["clear"] == nil }
        #expect(
            Set(publish.map(\.id)) == [
                "example.com/acme/dns-01/publish", "example.net/acme/dns-01/publish",
                "example.com/acme/http-01/publish",
            ])
        #expect(
            plan.action("example.com/acme/dns-01/publish")?.params["services"]
                == .strings(["example.com/mail-ec", "example.com/mail-rsa"]))
        #expect(
            plan.actions.filter { $0.kind == .awaitPropagation }.map(\.id).sorted()
                == ["example.com/acme/dns-01/await", "example.net/acme/dns-01/await"])
        // Orders, answers and finalizations each form one consecutive batch of the four services.
        for kind in [ActionKind.acmeOrder, .answerChallenges, .finalizeOrder] {
            let positions = plan.actions.indices.filter { plan.actions[$0].kind == kind }
            #expect(positions.count == 4, "\(kind)")
            #expect(positions.last.map { $0 - positions[0] } == 3, "\(kind) not consecutive: \(positions)")
        }
        // http-01 answers wait for the tokens only, dns-01 answers for propagation.
        #expect(
            plan.action("example.com/web-ec/next/answer")?.dependsOn.contains("example.com/acme/http-01/publish")
                == true)
        #expect(
            plan.action("example.com/mail-ec/next/answer")?.dependsOn.contains("example.com/acme/dns-01/await") == true)
        // The ACME certificate step replaces sign_local; the chain goes on as for local CAs.
        #expect(plan.action("example.com/mail-ec/next/cert")?.kind == .finalizeOrder)
        #expect(plan.action("example.com/mail-ec/next/bundle")?.dependsOn == ["example.com/mail-ec/next/cert"])
        #expect(plan.action("example.com/mail-ec/next/order")?.params["replaces"] == nil)
    }

    @Test func plansWithoutACMEKeepTheirOrder() throws {
        let config = try ExampleConfig.load()
        let plan = Self.plan(config)
        var unsorted = plan
        unsorted.actions = try ActionOrdering.batched(plan.actions)
        #expect(unsorted.actions.map(\.id) == plan.actions.map(\.id))
        #expect(!plan.actions.contains { $0.kind == .acmeOrder })
    }

    @Test func stagingUsesTheStagingDirectory() throws {
        let config = try Self.acmeConfig()
        var request = PlanningRequest(
            config: config, observation: StateBuilder(config: config).build(),
            now: Date(timeIntervalSince1970: 1_800_000_000), toolVersion: "test")
        request.acmeStaging = true
        let plan = Planner.plan(request)
        #expect(
            plan.action("example.com/mail-ec/next/order")?.params["directory"]
                == .string(ACMESettings.letsEncryptStaging))
        #expect(plan.options.extras?.contains("test") == true)
    }

    @Test func leftoverChallengesAreCleared() throws {
        let config = try ExampleConfig.load([
            "ssl-mgr.conf": [("restart_cmd = ''", "restart_cmd = '/usr/local/bin/resign'")]
        ])
        var observation = StateBuilder(config: config).build()
        observation.acmeChallengeLeftovers = ["example.net"]
        let plan = Self.plan(config, observation: observation)
        #expect(plan.action("example.net/acme/dns-01/clear")?.params["clear"] == .bool(true))
        #expect(plan.action("acme/dns-01/refresh-cleared")?.params["domains"] == .strings(["example.net"]))
    }

    /// ARI: the CA's window replaces `[renew_info]` for the certificate it was given for.
    @Test(arguments: [(-1.0, -0.5, true), (5.0, 7.0, false)])
    func renewalWindowDecides(startDays: Double, endDays: Double, due: Bool) throws {
        let config = try Self.acmeConfig()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var builder = StateBuilder(config: config)
        builder.issue(
            "example.com/web-ec", slot: "curr", at: now.addingTimeInterval(-10 * 86_400), days: 90,
            serial: "0a0b0c")
        builder.syncEverything()
        var observation = builder.build()
        ACMEIssuance.record(&observation, config: config)
        observation.renewalWindows = [
            "example.com/web-ec": RenewalWindow(
                serialHex: "0a0b0c", start: now.addingTimeInterval(startDays * 86_400),
                end: now.addingTimeInterval(endDays * 86_400))
        ]
        let plan = Planner.plan(
            PlanningRequest(
                config: config, observation: observation, now: now,
                targets: [ServiceAddress(group: "example.com", service: "web-ec")],
                toolVersion: "test"))
        let order = plan.action("example.com/web-ec/next/order")
        #expect((order != nil) == due)
        if due {
            #expect(order?.reason.code == "renewal_due" && order?.reason.message.contains("ARI") == true)
            #expect(order?.params["replaces"] == .string("curr"))
        } else {
            #expect(plan.notes.contains { $0.subject == "example.com/web-ec" && $0.reason.message.contains("ARI") })
        }
        // Without the window the same certificate (80 d left of 90) is not due by [renew_info].
        observation.renewalWindows = nil
        let plain = Planner.plan(
            PlanningRequest(
                config: config, observation: observation, now: now,
                targets: [ServiceAddress(group: "example.com", service: "web-ec")],
                toolVersion: "test"))
        #expect(plain.action("example.com/web-ec/next/order") == nil)
    }
}
