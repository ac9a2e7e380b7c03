import Foundation
import SSLMConfig
import SSLMCore
import SSLMPlan
import SSLMTestSupport
import Testing

/// `plans/`: golden plans of conf.d.example over checked-in observed states (`plans/states/`).
/// `SSLM_RECORD_GOLDEN=1 swift test --filter PlansDirectoryTests` rewrites both from the builders.
@Suite("plans/: golden plans of the example")
struct PlansDirectoryTests {
    static let plansDirectory = Repo.root.path + "/plans"
    static let showcased = [
        "fresh-install", "in-sync", "renewal-due-90d", "next-waiting-to-roll", "roll-exactly-at-min-roll-mins",
        "production-file-edited", "tlsa-file-drift", "config-changed-sans",
    ]

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    @Test(arguments: showcased)
    func goldenPlan(name: String) throws {
        let testCase = try #require(planCases.first { $0.name == name })
        let statePath = Self.plansDirectory + "/states/\(name).json"
        let planPath = Self.plansDirectory + "/\(name).json"
        if GoldenPlanTests.recording {
            let (plan, observation) = try GoldenPlanTests.makePlan(testCase)
            try Self.encoder().encode(observation).write(to: URL(fileURLWithPath: statePath))
            try PlanCodec.encode(plan).write(to: URL(fileURLWithPath: planPath))
            return
        }
        let stateData = try #require(FileManager.default.contents(atPath: statePath), "missing \(statePath)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let observation = try decoder.decode(Observation.self, from: stateData)
        #expect(
            observation.fingerprint == Observation.computeFingerprint(observation), "the state file was edited by hand")
        let config = try ExampleConfig.load(testCase.edits)
        var targets: [ServiceAddress]?
        if let specs = testCase.targets {
            targets = try specs.flatMap { text -> [ServiceAddress] in
                let spec = try TargetSpec.parse(text).get()
                let names = spec.services ?? config.groups.first { $0.domain == spec.group }?.services ?? []
                return names.map { ServiceAddress(group: spec.group, service: $0) }
            }
        }
        let plan = Planner.plan(
            PlanningRequest(
                config: config, observation: observation, now: testCase.now, targets: targets,
                targetSpecs: testCase.targets ?? [], phase: testCase.phase, force: testCase.force,
                reuseKey: testCase.reuseKey, minRollMinutes: testCase.minRollMinutes, toolVersion: "test"))
        let golden = try #require(FileManager.default.contents(atPath: planPath), "missing \(planPath)")
        #expect(
            PlanCodec.encode(plan) == golden, "\(planPath) differs; re-record with SSLM_RECORD_GOLDEN=1 if intended")
        #expect(!String(decoding: golden, as: UTF8.self).contains("PRIVATE KEY"))
    }
}
