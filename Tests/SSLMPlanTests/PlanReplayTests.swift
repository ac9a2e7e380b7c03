import Foundation
import SSLMCore
import Testing

@testable import SSLMPlan

/// `PlanReplay`: the comparison behind `sslm apply FILE` and the decoding of a saved plan's options.
@Suite struct PlanReplayTests {
    static func plan() throws -> Plan {
        let config = try ExampleConfig.load([:])
        return Planner.plan(
            PlanningRequest(
                config: config, observation: StateBuilder(config: config).build(),
                now: Date(timeIntervalSince1970: 1_800_000_000), toolVersion: "test"))
    }

    @Test func equalActionsHaveNoDifference() throws {
        let actions = try Self.plan().actions
        #expect(!actions.isEmpty)
        #expect(PlanReplay.firstDifference(saved: actions, recomputed: actions) == nil)
    }

    /// Reason sentences explain; they are not compared (some count down with the clock).
    @Test func reasonSentencesAreNotCompared() throws {
        let actions = try Self.plan().actions
        var saved = actions
        saved[0].reason.message = "something else"
        #expect(PlanReplay.firstDifference(saved: saved, recomputed: actions) == nil)
    }

    struct Edit: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var expected: String
        var apply: @Sendable (inout [Action]) -> Void
    }

    static let edits: [Edit] = [
        Edit(testDescription: "parameter changed", expected: "parameter sans") { actions in
            for index in actions.indices where actions[index].kind == .createCSR {
                actions[index].params["sans"] = .strings(["evil.example.org"])
            }
        },
        Edit(testDescription: "parameter added", expected: "parameter host") { actions in
            actions[0].params["host"] = .string("evil.example.org")
        },
        Edit(testDescription: "id changed", expected: "action 1 is create_next x") { actions in
            actions[0].id = "x"
        },
        Edit(testDescription: "kind changed", expected: "copy_to_server") { actions in
            actions[0].kind = .copyToServer
        },
        Edit(testDescription: "service changed", expected: "names service \"example.net/evil\"") { actions in
            actions[0].service = "example.net/evil"
        },
        Edit(testDescription: "dependency removed", expected: "depends on []") { actions in
            for index in actions.indices where !actions[index].dependsOn.isEmpty {
                actions[index].dependsOn = []
            }
        },
        Edit(testDescription: "reason code changed", expected: "reason \"forced\"") { actions in
            actions[0].reason = Reason(.forced, actions[0].reason.message)
        },
        Edit(testDescription: "action appended", expected: "is not planned") { actions in
            actions.append(Action(id: "server/evil/copy", kind: .copyToServer, reason: Reason(.serversChanged, "")))
        },
        Edit(testDescription: "action removed", expected: "is missing from the file") { actions in
            actions.removeLast()
        },
        Edit(testDescription: "control characters are shown escaped", expected: "\\u{1b}") { actions in
            actions[0].params["host"] = .string("evil\u{1B}[2J")
        },
    ]

    @Test(arguments: edits) func everyEditIsADifference(_ edit: Edit) throws {
        let actions = try Self.plan().actions
        var saved = actions
        edit.apply(&saved)
        let difference = try #require(PlanReplay.firstDifference(saved: saved, recomputed: actions))
        #expect(difference.contains(edit.expected), "\(difference)")
        #expect(!difference.contains("\u{1B}"))
    }

    @Test func savedOptionsAreDecoded() throws {
        var options = Plan.Options(
            targets: ["example.com:web-ec"], phase: .renew, force: true, reuseKey: true,
            minRollMinutes: 30)
        options.extras = ["clean-keep=3", "clean-all", "certs-to-prod", "force-server-restarts", "dns-refresh", "test"]
        let fields = try PlanReplay.requestFields(options)
        #expect(fields.phase == .renew && fields.force && fields.reuseKey && fields.minRollMinutes == 30)
        #expect(fields.cleanKeep == 3 && fields.cleanAll && fields.forceProductionSync && fields.forceRestarts)
        #expect(fields.forceDNSRefresh && fields.test)
    }

    @Test(arguments: ["--zone-file=/etc/shadow", "clean-keep=0", "clean-keep=x", "TEST"])
    func unknownOptionsAreRefused(_ extra: String) {
        var options = Plan.Options(targets: [], phase: .all, force: false, reuseKey: false, minRollMinutes: 0)
        options.extras = [extra]
        #expect(throws: SSLMError(.malformedInput, "")) { try PlanReplay.requestFields(options) }
    }
}
