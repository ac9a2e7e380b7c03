import Foundation
import Logging
import SSLMApply
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMPlan
import SSLMTestSupport
import Testing

@Suite("[globals] ssh_config in the argv of copies and restarts")
struct SSHConfigArgvTests {
    @Test("with ssh_config: rsync -e 'ssh -F FILE' and ssh -F FILE host argv…; without: plain ssh")
    func argv() throws {
        #expect(
            try DeployCommands.remoteCopy(
                productionDirectory: "/etc/ssl-mgr/prod-certs", host: "mx1", sshConfig: "/etc/sslm/ssh_config")
                == [
                    "rsync", "-a", "--delete", "--mkpath", "-e", "ssh -F /etc/sslm/ssh_config",
                    "/etc/ssl-mgr/prod-certs/", "mx1:/etc/ssl-mgr/prod-certs/",
                ])
        #expect(
            try DeployCommands.remoteCopy(productionDirectory: "/p/", host: "mx1")
                == ["rsync", "-a", "--delete", "--mkpath", "-e", "ssh", "/p/", "mx1:/p/"])
        #expect(
            DeployCommands.restart(
                ["/usr/sbin/postfix", "reload"], host: "mx1", isLocal: false, sshConfig: "/etc/sslm/ssh config")
                == ["ssh", "-F", "/etc/sslm/ssh config", "mx1", "/usr/sbin/postfix", "reload"])
        #expect(
            DeployCommands.restart(["/usr/sbin/postfix", "reload"], host: "mx1", isLocal: true, sshConfig: "/c")
                == ["/usr/sbin/postfix", "reload"])
    }

    @Test(
        "a path rsync's -e splitter would misread is refused with a reason",
        arguments: ["/etc/ssl mgr/ssh_config", "/etc/sslm/it's", "/etc/sslm/a\"b", "/etc/sslm/tab\there"])
    func unsafePathRefused(path: String) {
        let error = #expect(throws: SSLMError.self) {
            try DeployCommands.remoteCopy(productionDirectory: "/p", host: "mx1", sshConfig: path)
        }
        #expect(error?.code == .configInvalid)
        #expect(error?.message.contains("ssh_config \(path) contains white space or a quote") == true)
        #expect(error?.message.contains("rsync splits its -e command") == true)
        #expect(throws: SSLMError.self) {
            try DeployCommands.remoteCopy(productionDirectory: "/p", host: "mx1", ssh: "/opt/my ssh/ssh")
        }
    }

    @Test("apply: a copy with an ssh_config path containing a space fails before rsync runs; restarts still pass it")
    func executorRefusesSpaceInPath() async throws {
        let fixture = try ApplyFixture()
        var config = fixture.config
        config.globals.sshConfig = "/tmp/ssl mgr/ssh_config"
        let base = fixture.executor()
        let executor = Executor(
            config: config, topdir: fixture.path, now: ApplyFixture.now, logger: ApplyFixture.logger,
            options: base.options)
        let reason = Reason(.serversChanged, "test")
        let plan = Plans.plan([
            Action(
                id: "server/mx1.example.org/copy",
                payload: .copyToServer(host: "mx1.example.org", sections: ["smtp"]), reason: reason),
            Action(
                id: "restart/smtp/mx1.example.org",
                payload: .restartServer(section: "smtp", host: "mx1.example.org", commands: []), reason: reason),
        ])
        let report = try await executor.apply(plan)
        guard case .failed(let why)? = report.outcome("server/mx1.example.org/copy") else {
            Issue.record("the copy did not fail: \(report.results)")
            return
        }
        #expect(why.contains("ssh_config /tmp/ssl mgr/ssh_config contains white space"))
        #expect(report.outcome("restart/smtp/mx1.example.org")?.isSuccess == true)
        // The stand-in ssh records its argv joined by spaces: -F and the path arrive as two words.
        #expect(
            fixture.recordedCommands == [
                "ssh -F /tmp/ssl mgr/ssh_config mx1.example.org \(fixture.bin)/restart-smtp reload",
                "ssh -F /tmp/ssl mgr/ssh_config mx1.example.org \(fixture.bin)/restart-smtp check",
            ], "rsync must not have run")
    }
}

@Suite(
    "copies and restarts against a real sshd on 127.0.0.1",
    .enabled(if: TestTier.full, "starts sshd: not in make check"),
    .enabled(if: LoopbackSSHServer.available, "sshd, ssh, rsync are needed (scripts/install-deps test)"))
struct RemoteDeployTests {
    /// A fixture whose `[smtp]` (and `[imap]`, restarts only) run the recorder on `host`.
    private static func fixture(host: String) throws -> ApplyFixture {
        let fixture = try ApplyFixture(
            smtp: """
                [smtp]
                servers = ['\(host)']
                restart_cmd = ['BIN/smtp-restart reload', 'BIN/smtp-restart check']
                depends = ['cert']

                [imap]
                servers = ['\(host)']
                restart_cmd = 'BIN/imap-restart reload'
                skip_prod_copy = true
                depends = ['cert']
                """)
        for name in ["smtp-restart", "imap-restart", "dns-refresh"] {
            try LoopbackSSHServer.writeRecorder(
                at: fixture.bin + "/" + name, log: fixture.commandLog, production: fixture.prod)
        }
        return fixture
    }

    /// The fixture's executor with the real rsync and ssh, and `ssh_config` set to the server's client config.
    private static func executor(_ fixture: ApplyFixture, _ server: LoopbackSSHServer) -> Executor {
        var config = fixture.config
        config.globals.sshConfig = server.clientConfig
        let options = fixture.executor {
            $0.rsyncProgram = "rsync"
            $0.sshProgram = "ssh"
        }.options
        return Executor(
            config: config, topdir: fixture.path, now: ApplyFixture.now, logger: ApplyFixture.logger,
            options: options)
    }

    /// copy → restart/smtp → restart/imap → dns/refresh, on `host`, after the fresh install's production.
    private static func serverActions(host: String, after production: [String]) -> [Action] {
        let reason = Reason(.serversChanged, "test")
        let copy = "server/\(host)/copy"
        return [
            Action(
                id: copy,
                payload: .copyToServer(host: host, sections: ["smtp"]), reason: reason,
                dependsOn: production),
            Action(
                id: "restart/smtp/\(host)",
                payload: .restartServer(section: "smtp", host: host, commands: []), reason: reason, dependsOn: [copy]),
            // skip_prod_copy: a restart that does not wait for a copy.
            Action(
                id: "restart/imap/\(host)",
                payload: .restartServer(section: "imap", host: host, commands: []), reason: reason,
                dependsOn: production),
            Action(
                id: "dns/refresh", payload: .refreshDNS(domains: ["example.com"]),
                reason: Reason(.dnsChanged, "test"),
                dependsOn: production + ["restart/smtp/\(host)", "restart/imap/\(host)"]),
        ]
    }

    @Test(
        "rsync over ssh -F delivers production (stale files deleted); restarts run over ssh after it, before the DNS refresh"
    )
    func copyAndRestart() async throws {
        try await LoopbackSSHServer.run { server in
            let fixture = try Self.fixture(host: LoopbackSSHServer.hostAlias)
            let remoteProd = server.remoteRoot + fixture.prod
            try FileManager.default.createDirectory(
                atPath: remoteProd + "/example.com/old", withIntermediateDirectories: true)
            try Data("stale".utf8).write(to: URL(fileURLWithPath: remoteProd + "/example.com/old/cert.pem"))

            let install = Plans.freshInstall()
            let production = install.filter { $0.kind == .syncProduction }.map(\.id)
            let plan = Plans.plan(install + Self.serverActions(host: LoopbackSSHServer.hostAlias, after: production))
            let report = try await Self.executor(fixture, server).apply(plan)
            #expect(report.succeeded, "\(report.failures)")

            // The "remote" disk holds exactly the local production tree (content and modes).
            let local = try #require(LoopbackSSHServer.tree(fixture.prod))
            #expect(local["example.com/mail/curr/cert.pem"] != nil)
            #expect(local["example.com/mail/curr/privkey.pem"]?.hasSuffix(" 600") == true)
            #expect(LoopbackSSHServer.tree(remoteProd) == local, "rsync --delete: the stale file must be gone")
            #expect(!fixture.exists(remoteProd + "/example.com/old"))

            // Restarts: over ssh, in the user's home, after the copy (the remote prod had every cert.pem), in
            // plan order, and before the local DNS refresh.
            let certs = local.keys.filter { $0.hasSuffix("/cert.pem") }.count
            let home = LoopbackSSHServer.currentUser.home
            #expect(certs == 3)
            #expect(
                fixture.recordedCommands == [
                    "smtp-restart reload via=ssh cwd=\(home) certs=\(certs)",
                    "smtp-restart check via=ssh cwd=\(home) certs=\(certs)",
                    "imap-restart reload via=ssh cwd=\(home) certs=\(certs)",
                    "dns-refresh --serial_bump example.com via=local cwd=\(FileManager.default.currentDirectoryPath) certs=\(certs)",
                ])
            let sessions = server.sessions
            #expect(sessions.count == 4, "\(sessions)")
            #expect(sessions.first?.hasPrefix("rsync --server ") == true)
            #expect(sessions.first?.hasSuffix(" \(fixture.prod)/") == true, "the same path as locally")
            #expect(
                Array(sessions.dropFirst()) == [
                    "\(fixture.bin)/smtp-restart reload", "\(fixture.bin)/smtp-restart check",
                    "\(fixture.bin)/imap-restart reload",
                ])
        }
    }

    @Test(
        "a host that refuses connections: copy and restart fail with ssh's reason, dependents are skipped, local state is untouched"
    )
    func refusedConnection() async throws {
        try await LoopbackSSHServer.run { server in
            let host = LoopbackSSHServer.refusingAlias
            let fixture = try Self.fixture(host: host)
            let executor = Self.executor(fixture, server)
            let install = Plans.freshInstall()
            #expect(try await executor.apply(Plans.plan(install)).succeeded)
            let before = fixture.snapshot()

            let report = try await executor.apply(Plans.plan(Self.serverActions(host: host, after: [])))
            guard case .failed(let copyReason)? = report.outcome("server/\(host)/copy"),
                case .failed(let restartReason)? = report.outcome("restart/imap/\(host)")
            else {
                Issue.record("the copy and the imap restart must fail: \(report.results)")
                return
            }
            // ssh's own message leads, not rsync's "unexplained error (code 255)" or "protocol data stream
            // (code 12)" (which of the two depends on timing).
            #expect(
                copyReason.contains("could not copy to \(host): ssh: connect to host 127.0.0.1 port"), "\(copyReason)")
            #expect(copyReason.contains("(rsync exited with status "))
            #expect(
                restartReason.contains("could not reach \(host) over ssh: ssh: connect to host 127.0.0.1 port"),
                "\(restartReason)")
            #expect(restartReason.contains("(ssh exited with status 255)"))
            for reason in [copyReason, restartReason] {
                #expect(reason.contains("Connection refused"), "\(reason)")
                #expect(reason.contains("`ssh -F \(server.clientConfig) \(host) true`"), "what to check")
            }
            #expect(report.outcome("restart/smtp/\(host)") == .skipped(dependency: "server/\(host)/copy"))
            #expect(report.outcome("dns/refresh") == .skipped(dependency: "restart/smtp/\(host)"))
            #expect(fixture.recordedCommands.isEmpty, "nothing restarted, no DNS refresh")
            #expect(server.sessions.isEmpty)
            #expect(fixture.snapshot() == before, "certs/, prod/ and dns/ unchanged")
            let journal = fixture.read(fixture.path + "/.sslm/journal.jsonl") ?? ""
            #expect(
                journal.split(separator: "\n").contains {
                    $0.contains("\"action\":\"server/\(host)/copy\"") && $0.contains("\"event\":\"failed\"")
                        && $0.contains("Connection refused")
                })
        }
    }
}

@Suite(
    "sslm apply with servers, through the CLI, against a real sshd",
    .enabled(if: TestTier.full, "starts sshd: not in make check"),
    .enabled(if: LoopbackSSHServer.available, "sshd, ssh, rsync are needed (scripts/install-deps test)"))
struct RemoteDeployCLITests {
    /// conf.d.example (DANE moved to port 465: no DNS server needed) with `ssh_config`, `[smtp]` on `hosts`
    /// running the recorder, and `[dns] restart_cmd` = the recorder.
    private static func topdir(hosts: [String], server: LoopbackSSHServer) throws -> (topdir: String, log: String) {
        let topdir = try ExampleTopdir.make("sslm-remote-cli", ecKeys: false)
        let bin = topdir + "/bin"
        let log = topdir + "/restarts.log"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for name in ["smtp-restart", "dns-refresh"] {
            try LoopbackSSHServer.writeRecorder(at: bin + "/" + name, log: log, production: topdir + "/prod-certs")
        }
        let file = topdir + "/conf.d/ssl-mgr.conf"
        var text = try String(contentsOfFile: file, encoding: .utf8)
        let edits = [
            ("    post_copy_cmd = []\n", "    post_copy_cmd = []\n    ssh_config = '\(server.clientConfig)'\n"),
            ("    restart_cmd = ''\n", "    restart_cmd = '\(bin)/dns-refresh'\n"),
            (
                "[smtp]\n    servers = []\n",
                "[smtp]\n    servers = [\(hosts.map { "'\($0)'" }.joined(separator: ", "))]\n"
                    + "    restart_cmd = ['\(bin)/smtp-restart reload', '\(bin)/smtp-restart check']\n"
                    + "    depends = ['cert']\n"
            ),
        ]
        for (old, new) in edits {
            guard text.contains(old) else { throw SSLMError(.configInvalid, "conf.d.example changed: no \(old)") }
            text = text.replacingOccurrences(of: old, with: new)
        }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return (topdir, log)
    }

    private static func lines(_ path: String) -> [String] {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
    }

    /// `sslm plan --json`: (kind, id) of each action.
    private static func plannedActions(_ topdir: String) throws -> [(kind: String, id: String)] {
        let plan = try SSLMProcess.run(["plan", "--json", "--topdir", topdir])
        let object = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        let actions = try #require(object?["actions"] as? [[String: Any]], "\(plan.stdout)\(plan.stderr)")
        return actions.map { ($0["kind"] as? String ?? "", $0["id"] as? String ?? "") }
    }

    @Test(
        "sslm apply copies production to the host over ssh -F and restarts it before the DNS refresh; then no changes")
    func applyConverges() async throws {
        try await LoopbackSSHServer.run { server in
            let (topdir, log) = try Self.topdir(hosts: [LoopbackSSHServer.hostAlias], server: server)
            defer { try? FileManager.default.removeItem(atPath: topdir) }
            let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
            #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
            #expect(apply.stdout.contains("done    server/testhost/copy"))

            let local = try #require(LoopbackSSHServer.tree(topdir + "/prod-certs"))
            #expect(LoopbackSSHServer.tree(server.remoteRoot + topdir + "/prod-certs") == local)
            let certs = local.keys.filter { $0.hasSuffix("/cert.pem") }.count
            #expect(certs == 6)
            let restarts = Self.lines(log).map { $0.components(separatedBy: " cwd=").first ?? $0 }
            #expect(
                restarts == [
                    "smtp-restart reload via=ssh", "smtp-restart check via=ssh",
                    "dns-refresh --serial_bump example.com via=local",
                ])
            #expect(
                Self.lines(log).prefix(2).allSatisfy { $0.hasSuffix(" certs=\(certs)") }, "restarted after the copy")
            let plan = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir])
            #expect(plan.status == 0, "\(plan.stdout)")
        }
    }

    @Test(
        "a refusing host: apply exits 1 naming ssh's reason, the other host is copied, local state stays consistent; the next apply retries the copy"
    )
    func refusedHostThroughCLI() async throws {
        try await LoopbackSSHServer.run { server in
            let dead = LoopbackSSHServer.refusingAlias
            let (topdir, log) = try Self.topdir(hosts: [LoopbackSSHServer.hostAlias, dead], server: server)
            defer { try? FileManager.default.removeItem(atPath: topdir) }
            let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
            #expect(apply.status == 1, "\(apply.stdout)\(apply.stderr)")
            #expect(apply.stdout.contains("done    server/testhost/copy"), "\(apply.stdout)")
            let failure = apply.stdout.split(separator: "\n").first { $0.contains("FAILED  server/\(dead)/copy: ") }
            #expect(failure?.contains("could not copy to \(dead): ssh: connect to host 127.0.0.1 port") == true)
            #expect(failure?.contains("Connection refused") == true, "\(apply.stdout)")
            #expect(apply.stdout.contains("skipped restart/smtp/\(dead): server/\(dead)/copy did not succeed"))
            #expect(apply.stdout.contains("skipped dns/refresh"), "no DNS refresh while a server may lack the new key")
            #expect(!Self.lines(log).contains { $0.hasPrefix("dns-refresh") })
            let local = try #require(LoopbackSSHServer.tree(topdir + "/prod-certs"))
            #expect(LoopbackSSHServer.tree(server.remoteRoot + topdir + "/prod-certs") == local)

            // Local state is complete and consistent: nothing local is planned again, except the TLSA copy
            // into the zone's include directory, which after a roll waits for every restart (the zone keeps
            // the old key's records while a server may still present it).
            let deployKinds: Set<String> = [
                "copy_to_server", "post_copy", "restart_server", "refresh_dns", "publish_tlsa",
            ]
            let planned = try Self.plannedActions(topdir)
            #expect(planned.allSatisfy { deployKinds.contains($0.kind) }, "\(planned)")
            let status = try SSLMProcess.run(["status", "--topdir", topdir])
            #expect(status.status == 0)
            #expect(status.stdout.components(separatedBy: "curr         : expires:").count - 1 == 6)

            // The host comes back: the next apply should copy to it, restart it and refresh DNS.
            try server.reviveRefusingHost()
            #expect(planned.contains { $0.kind == "copy_to_server" && $0.id == "server/\(dead)/copy" })
            #expect(
                !planned.contains { $0.id == "server/\(LoopbackSSHServer.hostAlias)/copy" },
                "a copy that succeeded is not repeated")
            let retry = try SSLMProcess.run(["apply", "--topdir", topdir])
            #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
            #expect(retry.stdout.contains("done    server/\(dead)/copy"), "\(retry.stdout)")
            #expect(Self.lines(log).contains { $0.hasPrefix("dns-refresh") })
            let settled = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir])
            #expect(settled.status == 0, "after the retry nothing is pending: \(settled.stdout)")
        }
    }
}
