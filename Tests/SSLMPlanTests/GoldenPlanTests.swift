import Foundation
import SSLMConfig
import SSLMCore
import SSLMPlan
import Testing

/// Table-driven planner tests: each case's plan is checked for the actions and notes it must have,
/// then compared byte for byte with its golden file (`SSLM_RECORD_GOLDEN=1` re-records).
@Suite("Planner cases and golden plans")
struct GoldenPlanTests {
    static let goldenDirectory: String = (#filePath as NSString).deletingLastPathComponent + "/Golden"
    static var recording: Bool { ProcessInfo.processInfo.environment["SSLM_RECORD_GOLDEN"] == "1" }

    static func makePlan(_ testCase: PlanCase) throws -> (Plan, Observation) {
        // The state is what the unedited example produced; the plan uses the edited config.
        let config = try ExampleConfig.load(testCase.edits)
        var builder = StateBuilder(config: try ExampleConfig.load())
        testCase.state(&builder)
        var observation = builder.build()
        if testCase.acmeIssued { ACMEIssuance.record(&observation, config: config) }
        var targets: [ServiceAddress]?
        if let specs = testCase.targets {
            targets = []
            for text in specs {
                let spec = try TargetSpec.parse(text).get()
                let names = spec.services ?? config.groups.first { $0.domain == spec.group }?.services ?? []
                targets?.append(contentsOf: names.map { ServiceAddress(group: spec.group, service: $0) })
            }
        }
        var request = PlanningRequest(
            config: config, observation: observation, now: testCase.now, targets: targets,
            targetSpecs: testCase.targets ?? [], phase: testCase.phase, force: testCase.force,
            reuseKey: testCase.reuseKey, minRollMinutes: testCase.minRollMinutes, toolVersion: "test")
        request.retire = testCase.retire
        request.revokeRetired = testCase.revoke
        return (Planner.plan(request), observation)
    }

    @Test("at least 30 named cases")
    func enoughCases() {
        #expect(planCases.count >= 30)
        #expect(Set(planCases.map(\.name)).count == planCases.count)
    }

    @Test(arguments: planCases)
    func planCase(_ testCase: PlanCase) throws {
        let (plan, _) = try Self.makePlan(testCase)
        let ids = Dictionary(plan.actions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (id, code) in testCase.present.sorted(by: { $0.key < $1.key }) {
            let action = ids[id]
            #expect(action != nil, "missing action \(id); plan has \(plan.actions.map(\.id))")
            if !code.isEmpty, let action { #expect(action.reason.code == code, "\(id): \(action.reason.message)") }
        }
        for id in testCase.absent {
            #expect(ids[id] == nil, "unexpected action \(id): \(ids[id]?.reason.message ?? "")")
        }
        let notes = plan.notes.map { "\($0.subject): \($0.reason.code)" }
        for note in testCase.notes { #expect(notes.contains(note), "missing note \(note); notes: \(notes)") }
        if testCase.empty { #expect(plan.actions.isEmpty, "expected no actions, got \(plan.actions.map(\.id))") }
        // Every dependency names an earlier action: the list is a valid execution order.
        var seen: Set<String> = []
        for action in plan.actions {
            for dependency in action.dependsOn {
                #expect(seen.contains(dependency), "\(action.id) depends on later/unknown \(dependency)")
            }
            seen.insert(action.id)
        }
        #expect(seen.count == plan.actions.count, "action ids are unique")
        // Golden file.
        let data = PlanCodec.encode(plan)
        let path = Self.goldenDirectory + "/\(testCase.name).json"
        if Self.recording {
            try data.write(to: URL(fileURLWithPath: path))
        } else {
            let golden = try #require(
                FileManager.default.contents(atPath: path), "no golden file \(path); record with SSLM_RECORD_GOLDEN=1")
            #expect(golden == data, "plan differs from \(path); re-record with SSLM_RECORD_GOLDEN=1 if intended")
        }
    }

    @Test("the same inputs give byte-identical plans", arguments: planCases.prefix(8))
    func deterministic(_ testCase: PlanCase) throws {
        let first = PlanCodec.encode(try Self.makePlan(testCase).0)
        let second = PlanCodec.encode(try Self.makePlan(testCase).0)
        #expect(first == second)
    }

    @Test("no golden plan contains private key material")
    func noPrivateKeys() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.goldenDirectory).filter {
            $0.hasSuffix(".json")
        }
        #expect(files.count >= 30)
        for file in files {
            let text = try String(contentsOfFile: Self.goldenDirectory + "/" + file, encoding: .utf8)
            #expect(!text.contains("PRIVATE KEY"), "\(file)")
        }
    }

    @Test("a plan survives encode → decode unchanged")
    func roundTrip() throws {
        let (plan, _) = try Self.makePlan(planCases[0])
        let decoded = try PlanCodec.decode(PlanCodec.encode(plan), file: "plan.json")
        #expect(decoded == plan)
    }

    @Test("a plan of another major format version is refused")
    func refusesOtherMajor() throws {
        let (plan, _) = try Self.makePlan(planCases[1])
        var text = String(decoding: PlanCodec.encode(plan), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"format_version\" : \"2.0\"", with: "\"format_version\" : \"1.0\"")
        #expect(throws: SSLMError.self) { try PlanCodec.decode(Data(text.utf8), file: "plan.json") }
    }
}

@Suite("Restarts wait only for their own host's copy")
struct RestartDependencyTests {
    @Test func perHostDependencies() throws {
        let testCase = try #require(planCases.first { $0.name == "roll-restarts-servers-before-dns" })
        let (plan, _) = try GoldenPlanTests.makePlan(testCase)
        let remote = try #require(plan.action("restart/smtp/mx1.example.com"))
        #expect(remote.dependsOn == ["server/mx1.example.com/copy"])
        let local = try #require(plan.action("restart/smtp/sslm-host"))
        #expect(
            !local.dependsOn.contains("server/mx1.example.com/copy"),
            "the local host does not wait for another host's copy")
        let refresh = try #require(plan.action("dns/refresh"))
        #expect(
            refresh.dependsOn.contains("restart/smtp/mx1.example.com")
                && refresh.dependsOn.contains("restart/smtp/sslm-host"))
    }
}
