import Foundation
import SSLMApply
import SSLMCore
import SSLMDeploy
import SSLMPlan
import SSLMTestSupport
import Testing

@Suite("External programs: copies, post_copy, restarts, DNS refresh")
struct CommandTests {
    static func serverActions() -> [Action] {
        let reason = Reason(.serversChanged, "test")
        return [
            Action(
                id: "server/mx1.example.org/copy",
                payload: .copyToServer(host: "mx1.example.org", sections: ["smtp"]), reason: reason),
            Action(
                id: "post_copy/mx1.example.org",
                payload: .postCopy(host: "mx1.example.org", command: "post-copy"), reason: reason,
                dependsOn: ["server/mx1.example.org/copy"]),
            Action(
                id: "restart/smtp/mx1.example.org",
                payload: .restartServer(section: "smtp", host: "mx1.example.org", commands: []), reason: reason,
                dependsOn: ["server/mx1.example.org/copy"]),
            Action(
                id: "restart/smtp/localhost",
                payload: .restartServer(section: "smtp", host: "localhost", commands: []), reason: reason,
                dependsOn: ["server/mx1.example.org/copy"]),
            Action(
                id: "dns/refresh", payload: .refreshDNS(domains: ["example.com", "example.net"]),
                reason: Reason(.dnsChanged, "test"),
                dependsOn: ["restart/smtp/mx1.example.org", "restart/smtp/localhost"]),
        ]
    }

    /// The two restarts are on different hosts: they run at the same time, each host's commands in order.
    @Test("commands run in plan order as argv: rsync, post_copy, restarts (ssh or local), DNS refresh")
    func commandsInOrder() async throws {
        let fixture = try ApplyFixture()
        let report = try await fixture.executor().apply(Plans.plan(Self.serverActions()))
        #expect(report.succeeded, "\(report.failures)")
        #expect(report.results.map(\.id) == Self.serverActions().map(\.id), "results are in plan order")
        let prod = fixture.prod
        let bin = fixture.bin
        let commands = fixture.recordedCommands
        #expect(
            commands.prefix(2) == [
                "rsync -a --delete --mkpath -e \(bin)/ssh \(prod)/ mx1.example.org:\(prod)/",
                "post-copy mx1.example.org",
            ])
        let restarts = commands.dropFirst(2).dropLast()
        #expect(
            restarts.filter { $0.hasPrefix("ssh ") } == [
                "ssh mx1.example.org \(bin)/restart-smtp reload",
                "ssh mx1.example.org \(bin)/restart-smtp check",
            ])
        #expect(restarts.filter { !$0.hasPrefix("ssh ") } == ["restart-smtp reload", "restart-smtp check"])
        #expect(commands.last == "dns-refresh --serial_bump example.com example.net")
        #expect(commands.count == 7)
    }

    @Test("this machine's own host name restarts locally, not over ssh")
    func localHostName() async throws {
        let fixture2 = try ApplyFixture(
            smtp: """
                [smtp]
                servers = ['mx1.example.org', 'SSLM-TEST-HOST']
                restart_cmd = ['BIN/restart-smtp reload', 'BIN/restart-smtp check']
                depends = ['cert']
                """)
        let restart = Action(
            id: "restart/smtp/SSLM-TEST-HOST",
            payload: .restartServer(section: "smtp", host: "SSLM-TEST-HOST", commands: []),
            reason: Reason(.serversChanged, "test"))
        let report = try await fixture2.executor().apply(Plans.plan([restart]))
        #expect(report.succeeded, "\(report.failures)")
        #expect(fixture2.recordedCommands == ["restart-smtp reload", "restart-smtp check"])
    }

    /// The executor is safe on its own: a host that no server section names is refused, nothing runs.
    @Test("a restart or copy to a host the config does not name is refused")
    func unconfiguredHost() async throws {
        let fixture = try ApplyFixture()
        let actions = [
            Action(
                id: "restart/smtp/evil.example.org",
                payload: .restartServer(section: "smtp", host: "evil.example.org", commands: []),
                reason: Reason(.serversChanged, "test")),
            Action(
                id: "server/evil.example.org/copy", payload: .copyToServer(host: "evil.example.org", sections: []),
                reason: Reason(.serversChanged, "test")),
            Action(
                id: "dns/refresh", payload: .refreshDNS(domains: ["example.com", "--zone-file=/etc/shadow"]),
                reason: Reason(.dnsChanged, "test")),
        ]
        let report = try await fixture.executor().apply(Plans.plan(actions))
        #expect(report.failures.count == 3, "\(report.failures)")
        #expect(report.failures.allSatisfy { $0.reason.contains("configuration") }, "\(report.failures)")
        #expect(fixture.recordedCommands == [])
    }

    @Test("a restart command exiting non-zero fails with its status and output; DNS refresh is skipped")
    func nonZeroExit() async throws {
        let fixture = try ApplyFixture(
            smtp: """
                [smtp]
                servers = ['localhost']
                restart_cmd = ['BIN/fail-3 reload', 'BIN/restart-smtp never']
                depends = ['cert']
                """)
        let report = try await fixture.executor().apply(Plans.plan(Self.localRestartAndRefresh()))
        guard case .failed(let reason)? = report.outcome("restart/smtp/localhost") else {
            Issue.record("restart did not fail: \(report.results)")
            return
        }
        #expect(reason.contains("exited with status 3"))
        #expect(reason.contains("service failed to reload"))
        #expect(report.outcome("dns/refresh") == .skipped(dependency: "restart/smtp/localhost"))
        #expect(fixture.recordedCommands == ["fail-3 reload"], "stops at the first failing command")
    }

    @Test("a restart command running past restart_timeout is killed and fails")
    func timeout() async throws {
        let fixture = try ApplyFixture(
            smtp: """
                [smtp]
                servers = ['localhost']
                restart_cmd = 'BIN/sleeper'
                restart_timeout = 1
                """)
        let report = try await fixture.executor().apply(Plans.plan(Self.localRestartAndRefresh()))
        guard case .failed(let reason)? = report.outcome("restart/smtp/localhost") else {
            Issue.record("restart did not fail: \(report.results)")
            return
        }
        #expect(reason.contains("timed out"))
        #expect(report.outcome("dns/refresh") == .skipped(dependency: "restart/smtp/localhost"))
    }

    @Test("post_copy failures are reported but do not stop what follows")
    func postCopyIsNotFatal() async throws {
        let fixture = try ApplyFixture()
        try FileManager.default.removeItem(atPath: fixture.bin + "/post-copy")
        let report = try await fixture.executor().apply(Plans.plan(Self.serverActions()))
        guard case .failedNonFatal(let reason)? = report.outcome("post_copy/mx1.example.org") else {
            Issue.record("post_copy did not fail non-fatally: \(report.results)")
            return
        }
        #expect(reason.contains("could not be started"))
        #expect(!report.succeeded)
        #expect(report.outcome("dns/refresh")?.isSuccess == true)
    }

    static func localRestartAndRefresh() -> [Action] {
        [
            Action(
                id: "restart/smtp/localhost",
                payload: .restartServer(section: "smtp", host: "localhost", commands: []),
                reason: Reason(.serversChanged, "test")),
            Action(
                id: "dns/refresh", payload: .refreshDNS(domains: ["example.com"]),
                reason: Reason(.dnsChanged, "test"), dependsOn: ["restart/smtp/localhost"]),
        ]
    }
}

@Suite("ProcessCommandRunner")
struct ProcessCommandRunnerTests {
    @Test("argv words reach the program as they are: no shell, no splitting, no expansion")
    func argvIsNotInterpreted() async {
        let result = await ProcessCommandRunner().run(
            Command(["printf", "%s|", "a b", "$HOME", "*", "; echo no"], timeout: .seconds(10)))
        #expect(result.succeeded)
        #expect(result.output == "a b|$HOME|*|; echo no|")
    }

    @Test("a missing program is a failure that says so")
    func missingProgram() async {
        let result = await ProcessCommandRunner().run(Command(["sslm-no-such-program"], timeout: .seconds(5)))
        #expect(!result.succeeded)
        #expect(result.failureReason?.contains("no such executable") == true)
    }

    @Test("the timeout kills the whole process group; the result is timedOut")
    func timeoutKillsGroup() async {
        let result = await ProcessCommandRunner(killGrace: .milliseconds(200)).run(
            Command(["/bin/sh", "-c", "echo started; sleep 30; echo never"], timeout: .milliseconds(300)))
        #expect(result.termination == .timedOut)
        #expect(result.output.contains("started"))
        #expect(!result.output.contains("never"))
    }

    /// The timers must not wait for the cooperative pool: with every one of its threads busy computing
    /// (2.5 s) while the program runs (1.5 s), a 0.5 s timeout still kills it. With the timers on
    /// `DispatchQueue.global()` (that same pool, which adds threads for blocked ones but not for busy ones)
    /// they fired only after the busy work, and the program had exited 0 by then.
    @Test("the timeout fires while every thread of the cooperative pool is busy")
    func timeoutWithABusyPool() async throws {
        let scratch = try ScratchTopdir("sslm-timeout-pool")
        let marker = scratch.path + "/started"
        let run = Task {
            await ProcessCommandRunner(killGrace: .milliseconds(200)).run(
                Command(
                    ["/bin/sh", "-c", "touch \"$0\"; sleep 1.5; echo finished", marker],
                    timeout: .milliseconds(500)))
        }
        while !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(20)) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
                group.addTask {
                    let end = ContinuousClock.now + .milliseconds(2_500)
                    while ContinuousClock.now < end {}
                }
            }
        }
        let result = await run.value
        #expect(result.termination == .timedOut, "\(result.termination): \(result.output)")
        #expect(!result.output.contains("finished"))
    }

    @Test("exit status and output are reported")
    func exitStatus() async {
        let result = await ProcessCommandRunner().run(
            Command(["/bin/sh", "-c", "echo out; echo err >&2; exit 7"], timeout: .seconds(10)))
        #expect(result.termination == .exited(7))
        #expect(result.output.contains("out"))
        #expect(result.output.contains("err"))
        #expect(result.failureReason?.hasPrefix("exited with status 7") == true)
    }
}
