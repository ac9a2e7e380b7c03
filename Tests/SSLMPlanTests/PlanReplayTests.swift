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
                actions[index].payload = .createCSR(sans: ["evil.example.org"])
            }
        },
        Edit(testDescription: "id changed", expected: "action 1 is create_next x") { actions in
            actions[0].id = "x"
        },
        Edit(testDescription: "kind changed", expected: "copy_to_server") { actions in
            actions[0].payload = .copyToServer(host: "mx1.example.org", sections: [])
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
            actions.append(
                Action(
                    id: "server/evil/copy", payload: .copyToServer(host: "evil", sections: []),
                    reason: Reason(.serversChanged, "")))
        },
        Edit(testDescription: "action removed", expected: "is missing from the file") { actions in
            actions.removeLast()
        },
        Edit(testDescription: "control characters are shown escaped", expected: "\\u{1b}") { actions in
            for index in actions.indices where actions[index].kind == .createCSR {
                actions[index].payload = .createCSR(sans: ["evil\u{1B}[2J"])
            }
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

    /// `ActionID` reads every id the planner writes and writes it back unchanged; names that look like
    /// parts of the grammar stay what they are.
    @Test func actionIDsRoundTrip() throws {
        for action in try Self.plan().actions {
            #expect(ActionID(action.id)?.description == action.id, "\(action.id)")
        }
        let cases: [(String, ActionID?)] = [
            (
                "example.com/acme/next/order",
                .service(ServiceAddress(group: "example.com", service: "acme"), .nextOrder)
            ),
            ("example.com/acme/dns-01/await", .acmeBatch(apex: "example.com", .dns01, .await)),
            ("example.com/tlsa/roll", .service(ServiceAddress(group: "example.com", service: "tlsa"), .roll)),
            ("example.com/tlsa/publish", .apexTLSAPublish(apex: "example.com")),
            ("restart/smtp/mx1.example.org", .restart(section: "smtp", host: "mx1.example.org")),
            ("example.com/web/next/dirx", nil), ("../../etc/prod", nil), ("example.com//prod", nil),
        ]
        for (text, expected) in cases {
            #expect(ActionID(text) == expected, "\(text)")
        }
    }

    /// A saved plan reads back into the same typed actions, and writes the same bytes again.
    @Test func savedPlansRoundTrip() throws {
        let plan = try Self.plan()
        let bytes = PlanCodec.encode(plan)
        let decoded = try PlanCodec.decode(bytes, file: "saved.json")
        #expect(decoded.actions == plan.actions)
        #expect(PlanCodec.encode(decoded) == bytes)
    }

    struct ParameterEdit: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// The action's kind whose first action is edited.
        var kind: String
        var edit: @Sendable (inout [String: Any]) -> Void
        /// What the refusal names (besides the action's id).
        var expected: String
    }

    static let parameterEdits: [ParameterEdit] = [
        ParameterEdit(
            testDescription: "unknown parameter", kind: "create_csr", edit: { $0["host"] = "x" },
            expected: "parameter host is not a parameter of create_csr"),
        ParameterEdit(
            testDescription: "misspelt parameter", kind: "sync_production",
            edit: { $0["curr "] = $0.removeValue(forKey: "curr") }, expected: "parameter curr is missing"),
        ParameterEdit(
            testDescription: "mistyped parameter", kind: "create_csr", edit: { $0["sans"] = "a.example" },
            expected: "parameter sans is not a list of strings"),
        ParameterEdit(
            testDescription: "bad key type", kind: "generate_key", edit: { $0["key"] = "ec p999" },
            expected: "parameter key \"ec p999\" is not a key type"),
        ParameterEdit(
            testDescription: "rolling as a string", kind: "write_tlsa",
            edit: { if $0["rolling"] != nil { $0["rolling"] = "true" } else { $0["dane"] = true } },
            expected: "write_tlsa): parameter"),
    ]

    /// Decoding refuses unknown, missing and mistyped parameters, naming the action and the parameter.
    @Test(arguments: parameterEdits) func badParametersAreRefused(_ edit: ParameterEdit) throws {
        let plan = try Self.plan()
        var json = try #require(try JSONSerialization.jsonObject(with: PlanCodec.encode(plan)) as? [String: Any])
        var actions = try #require(json["actions"] as? [[String: Any]])
        let index = try #require(actions.firstIndex { $0["kind"] as? String == edit.kind })
        var params = try #require(actions[index]["params"] as? [String: Any])
        edit.edit(&params)
        actions[index]["params"] = params
        json["actions"] = actions
        let data = try JSONSerialization.data(withJSONObject: json)
        let id = try #require(actions[index]["id"] as? String)
        do {
            _ = try PlanCodec.decode(data, file: "saved.json")
            Issue.record("\(edit.testDescription) was accepted")
        } catch let error as SSLMError {
            #expect(error.message.contains("action \(id) (\(edit.kind))"), "\(error.message)")
            #expect(error.message.contains(edit.expected), "\(error.message)")
        }
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
