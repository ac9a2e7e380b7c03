import Foundation
import SSLMCore
import SSLMDeploy
import SSLMPlan
import Testing

@testable import SSLMApply

@Suite("Action handlers: one per kind, and restarts of different hosts at the same time")
struct HandlerRegistryTests {
    @Test("the registry gives every kind the handler of that kind", arguments: ActionKind.allCases)
    func everyKindHasItsHandler(kind: ActionKind) {
        #expect(type(of: ActionHandlers.handler(for: kind)).kind == kind)
    }

    @Test("a handler refuses the payload of another kind")
    func payloadOfAnotherKind() throws {
        #expect(throws: SSLMError.self) { try RollHandler.payload(of: .createNext) }
        #expect(throws: SSLMError.self) { try WriteTLSAHandler.payload(of: .syncApexTLSA(apex: "example.com")) }
        #expect(try RollHandler.payload(of: .roll(next: nil)).next == nil)
    }

    @Test("only create_next and acme_order share their detail with later actions")
    func sharedDetails() {
        #expect(ActionKind.allCases.filter(ActionHandlers.sharesDetail) == [.createNext, .acmeOrder])
    }

    static func restart(section: String = "smtp", _ host: String, after: [String] = []) -> Action {
        Action(
            id: "restart/\(section)/\(host)", payload: .restartServer(section: section, host: host, commands: []),
            reason: Reason(.serversChanged, "test"), dependsOn: after)
    }

    @Test("restarts of different hosts overlap; the report keeps plan order")
    func differentHostsOverlap() async throws {
        let fixture = try ApplyFixture()
        let runner = OverlapRecorder()
        let plan = Plans.plan([Self.restart("mx1.example.org"), Self.restart("localhost")])
        let report = try await fixture.executor(runner: runner).apply(plan)
        #expect(report.succeeded, "\(report.failures)")
        #expect(report.results.map(\.id) == ["restart/smtp/mx1.example.org", "restart/smtp/localhost"])
        #expect(await runner.mostAtOnce == 2)
        #expect(await runner.started.count == 4)
    }

    @Test("restarts of one machine (under two names), or that depend on each other, do not overlap")
    func sameHostOrDependentDoNotOverlap() async throws {
        let fixture = try ApplyFixture(
            smtp: """
                [smtp]
                servers = ['localhost', 'SSLM-TEST-HOST', 'mx1.example.org']
                restart_cmd = ['BIN/restart-smtp reload', 'BIN/restart-smtp check']
                depends = ['cert']
                """)
        let runner = OverlapRecorder()
        let plan = Plans.plan([
            Self.restart("localhost"), Self.restart("SSLM-TEST-HOST"),
            Self.restart("mx1.example.org", after: ["restart/smtp/SSLM-TEST-HOST"]),
        ])
        let report = try await fixture.executor(runner: runner).apply(plan)
        #expect(report.succeeded, "\(report.failures)")
        #expect(await runner.mostAtOnce == 1)
        #expect(await runner.started.count == 6)
    }
}

/// A `CommandRunner` that succeeds without running anything and records how many commands ran at the same
/// time. Each command stays running until a second one has started, or for at most half a second.
actor OverlapRecorder: CommandRunner {
    private var running = 0
    private(set) var mostAtOnce = 0
    private(set) var started: [[String]] = []

    func run(_ command: Command) async -> CommandResult {
        started.append(command.argv)
        running += 1
        mostAtOnce = max(mostAtOnce, running)
        for _ in 0..<50 where running < 2 {
            try? await Task.sleep(for: .milliseconds(10))
        }
        running -= 1
        return CommandResult(termination: .exited(0), output: "")
    }
}
