import Foundation
import SSLMTestSupport
import Testing

/// `[hooks]` through `sslm apply` on the example: `deploy_cmd` after production changed, `failure_cmd`
/// after a failed run, each once per run with the JSON document on stdin and the `SSLM_*` variables; a
/// failing hook is a warning that changes neither the run nor its exit status; config check names a bad
/// hook.
@Suite(.serialized, .enabled(if: TestTier.full, "applies the example: not in make check"))
struct HooksCLITests {

    /// The example with a recording hook for both, which exits `status` (a file in the topdir).
    static func topdir(_ name: String) throws -> String {
        let topdir = try ExampleTopdir.make(name)
        let hook = topdir + "/bin/hook"
        try FileManager.default.createDirectory(atPath: topdir + "/bin", withIntermediateDirectories: true)
        try """
        #!/bin/sh
        n=$(ls "$(dirname "$0")"/../calls 2>/dev/null | wc -l)
        mkdir -p "$(dirname "$0")/../calls/$n"
        cat > "$(dirname "$0")/../calls/$n/stdin"
        printf '%s\\n%s\\n%s\\n%s\\n%s\\n' "$1" "$SSLM_RUN_STATUS" "$SSLM_CHANGED" "$SSLM_PRODUCTION_DIR" \\
          "$SSLM_TOPDIR" > "$(dirname "$0")/../calls/$n/env"
        exit "$(cat "$(dirname "$0")/../exit-status" 2>/dev/null || echo 0)"
        """.write(toFile: hook, atomically: true, encoding: .utf8)
        #expect(chmod(hook, 0o755) == 0)
        let main = topdir + "/conf.d/ssl-mgr.conf"
        let text = try String(contentsOfFile: main, encoding: .utf8)
        try (text + "\n[hooks]\n    deploy_cmd = ['bin/hook', 'deploy']\n    failure_cmd = ['bin/hook', 'failure']\n")
            .write(toFile: main, atomically: true, encoding: .utf8)
        return topdir
    }

    /// The recorded calls: (argument, status, changed, production dir, topdir, parsed stdin).
    static func calls(_ topdir: String) throws -> [(env: [String], document: [String: Any])] {
        let directory = topdir + "/calls"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted {
            (Int($0) ?? 0) < (Int($1) ?? 0)
        }
        return try names.map { name in
            let env = try String(contentsOfFile: "\(directory)/\(name)/env", encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)/stdin"))
            return (env, try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:])
        }
    }

    @Test func deployAfterProductionChangedFailureAfterAFailedRun() throws {
        let topdir = try Self.topdir("sslm-hooks")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let install = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        var calls = try Self.calls(topdir)
        #expect(calls.count == 1, "the deploy hook ran once: \(calls.map(\.env))")
        let deploy = try #require(calls.first)
        #expect(deploy.env[0] == "deploy" && deploy.env[1] == "ok")
        #expect(deploy.env[2].split(separator: " ").contains("example.com/mail-ec"), "SSLM_CHANGED: \(deploy.env[2])")
        #expect(deploy.env[3].hasSuffix("prod-certs") || !deploy.env[3].isEmpty, "SSLM_PRODUCTION_DIR")
        #expect(deploy.env[4] == topdir || deploy.env[4].hasSuffix(URL(fileURLWithPath: topdir).lastPathComponent))
        #expect(deploy.document["version"] as? Int == 1 && deploy.document["status"] as? String == "ok")
        let services = deploy.document["services"] as? [[String: Any]] ?? []
        let mail = try #require(services.first { $0["service"] as? String == "example.com/mail-ec" })
        #expect((mail["changed"] as? [String]).map { Set($0) } == ["renewed", "rolled", "production", "tlsa"])
        let fullchain = (mail["production"] as? [String: String])?["fullchain"] ?? ""
        #expect(
            FileManager.default.fileExists(atPath: fullchain), "the hook is told where fullchain.pem is: \(fullchain)")

        // Nothing changed: no hook.
        let quiet = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(quiet.status == 0 && quiet.stdout.contains("No changes."))
        #expect(try Self.calls(topdir).count == 1)

        // A restart that fails after a renewal: deploy (production changed) and failure, each once.
        let main = topdir + "/conf.d/ssl-mgr.conf"
        try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(
                of: "[smtp]\n    servers = []",
                with: "[smtp]\n    servers = ['\(LocalHostName.current)']\n    restart_cmd = '/bin/false'\n"
                    + "    svc_depends = [['example.net', ['web-ec']]]"
            )
            .write(toFile: main, atomically: true, encoding: .utf8)
        let renew = try SSLMProcess.run([
            "apply", "--force", "--min-roll-mins", "0", "--topdir", topdir, "example.net:web-ec",
        ])
        #expect(renew.status == 1, "the restart fails: \(renew.stdout)\(renew.stderr)")
        calls = try Self.calls(topdir)
        #expect(calls.count == 3, "\(calls.map(\.env))")
        let failure = try #require(calls.last)
        #expect(failure.env[0] == "failure" && failure.env[1] == "failed", "\(failure.env)")
        let failures = failure.document["failures"] as? [[String: Any]] ?? []
        #expect(failures.contains { ($0["action"] as? String)?.hasPrefix("restart/smtp/") == true }, "\(failures)")
        #expect(failures.allSatisfy { ($0["since"] as? String)?.isEmpty == false })

        // A failing hook: a warning; the run's status is its own.
        try "7\n".write(toFile: topdir + "/exit-status", atomically: true, encoding: .utf8)
        try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(of: "restart_cmd = '/bin/false'", with: "restart_cmd = '/bin/true'")
            .write(toFile: main, atomically: true, encoding: .utf8)
        let again = try SSLMProcess.run([
            "apply", "--force", "--min-roll-mins", "0", "--topdir", topdir, "example.net:web-ec",
        ])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stderr.contains("[hooks] deploy_cmd") && again.stderr.contains("the run itself is not affected"))
    }

    @Test func configCheckNamesABadHook() throws {
        let topdir = try ExampleTopdir.make("sslm-hooks-bad")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let main = topdir + "/conf.d/ssl-mgr.conf"
        try
            (String(contentsOfFile: main, encoding: .utf8)
            + "\n[hooks]\n    deploy_cmd = ['/nonexistent/after-deploy']\n    timeout = 0\n    deploy = 'x'\n")
            .write(toFile: main, atomically: true, encoding: .utf8)
        let check = try SSLMProcess.run(["config", "check", "--topdir", topdir])
        let text = check.stdout + check.stderr
        #expect(check.status == 1, "\(text)")
        #expect(
            text.contains("[hooks] deploy_cmd") && text.contains("/nonexistent/after-deploy does not exist"), "\(text)")
        #expect(text.contains("[hooks] timeout"), "\(text)")
        #expect(text.contains("did you mean \"deploy_cmd\""), "\(text)")
    }
}
