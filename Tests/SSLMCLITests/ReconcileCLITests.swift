import Foundation
import SSLMTestSupport
import Testing

/// plan / apply / show / status through the real executable on a copy of conf.d.example.
/// The mail services' DANE entries are moved from port 25 (MX hosts, a DNS lookup) to 465 (SAN owners)
/// so these tests need no DNS server.
@Suite(
    "sslm plan, apply, show, status", .serialized,
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct ReconcileCLITests {
    /// A scratch topdir with the example, applied once when `applied`.
    private func topdir(applied: Bool) throws -> String {
        let topdir = try ExampleTopdir.make("sslm-reconcile", ecKeys: false)
        if applied {
            let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
            #expect(apply.status == 0, "apply failed: \(apply.stdout)\(apply.stderr)")
        }
        return topdir
    }

    @Test("a fresh install applies in one run; afterwards the plan is empty (exit 0), status shows every curr")
    func freshInstallConverges() throws {
        let dir = try topdir(applied: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir])
        #expect(before.status == 2)
        #expect(before.stdout.contains(planRow("roll", "example.com/mail-ec/roll")))
        let apply = try SSLMProcess.run(["apply", "--topdir", dir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stdout.contains("action(s): ") && !apply.stdout.contains("FAILED"))
        let after = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir])
        #expect(after.status == 0, "plan after apply: \(after.stdout)")
        #expect(after.stdout.contains("No changes"))
        let status = try SSLMProcess.run(["status", "--topdir", dir])
        #expect(status.status == 0)
        #expect(status.stdout.components(separatedBy: "curr         : expires:").count - 1 == 6)
        let json = try SSLMProcess.run(["status", "--json", "--topdir", dir])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["services"] as? [Any])?.count == 6)
        // The leaf chain verifies with openssl against the local root.
        let leaf = dir + "/certs/example.com/web-ec/curr"
        let verify = try OpenSSL.run([
            "verify", "-CAfile", dir + "/certs/ca/my-root/curr/cert.pem",
            "-untrusted", dir + "/certs/ca/my-int/curr/cert.pem", leaf + "/cert.pem",
        ])
        #expect(verify.status == 0, "\(verify.output)")
    }

    @Test("a file changed by hand under production: exit 2, and the reason names the file")
    func productionDrift() throws {
        let dir = try topdir(applied: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/prod-certs/example.com/web-ec/curr/fullchain.pem"
        try (String(contentsOfFile: file, encoding: .utf8) + "\n").write(
            toFile: file, atomically: true, encoding: .utf8)
        let plan = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir])
        #expect(plan.status == 2)
        #expect(
            plan.stdout.contains(
                "production_drift: prod-certs/example.com/web-ec/curr/fullchain.pem differs from certs/example.com/web-ec/curr/fullchain.pem"
            ),
            "\(plan.stdout)")
        let apply = try SSLMProcess.run(["apply", "--topdir", dir])
        #expect(apply.status == 0)
        #expect(try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir]).status == 0)
    }

    @Test("a saved plan: show renders it; apply refuses it with exit 3 once the state changed")
    func savedPlan() throws {
        let dir = try topdir(applied: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let planFile = dir + "/plan.json"
        let plan = try SSLMProcess.run(["plan", "-o", planFile, "--topdir", dir])
        #expect(plan.status == 0)
        let show = try SSLMProcess.run(["show", planFile])
        #expect(show.status == 0 && show.stdout.contains("47 action(s)"))
        let showJSON = try SSLMProcess.run(["show", "--json", planFile])
        #expect(
            showJSON.stdout == String(decoding: FileManager.default.contents(atPath: planFile) ?? Data(), as: UTF8.self)
        )
        // Change the state: apply a subset, then the saved plan is stale.
        let partial = try SSLMProcess.run(["apply", "ca:my-root", "--topdir", dir])
        #expect(partial.status == 0, "\(partial.stdout)\(partial.stderr)")
        let stale = try SSLMProcess.run(["apply", planFile, "--topdir", dir])
        #expect(stale.status == 3)
        #expect(stale.stderr.contains("is stale"))
    }

    @Test("a saved plan of an unchanged state applies; applying it twice changes nothing more")
    func savedPlanTwice() throws {
        let dir = try topdir(applied: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let planFile = dir + "/plan.json"
        #expect(try SSLMProcess.run(["plan", "-o", planFile, "--topdir", dir]).status == 0)
        let first = try SSLMProcess.run(["apply", planFile, "--topdir", dir])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let second = try SSLMProcess.run(["apply", planFile, "--topdir", dir])
        #expect(second.status == 3, "the second apply of the same plan must refuse it as stale")
        #expect(try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", dir]).status == 0)
    }

    @Test(
        "bad options and targets are clear errors",
        arguments: [
            (["plan", "--phase", "sometimes"], "--phase: \"sometimes\" is not one of renew, roll, all"),
            (["plan", "example.com"], "expected group:service[,service…] or group:ALL"),
            (["plan", "--now", "yesterday"], "--now: \"yesterday\" is not an RFC 3339 time"),
            (["plan", "nosuch.example:web"], "the group directory conf.d/nosuch.example does not exist"),
        ])
    func badInput(arguments: [String], message: String) throws {
        let dir = try topdir(applied: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try SSLMProcess.run(arguments + ["--topdir", dir])
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("SSLM_NOW moves the clock: 65 days later the leaves are due")
    func injectedTime() throws {
        let dir = try topdir(applied: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(65 * 86_400))
        let plan = try SSLMProcess.run(
            ["plan", "--detailed-exitcode", "--topdir", dir], environment: ["SSLM_NOW": later])
        #expect(plan.status == 2)
        #expect(plan.stdout.contains("renewal_due: curr expires"))
        #expect(plan.stdout.contains(planRow("create_next", "example.com/web-ec/next/dir")))
    }
}

/// Runs /usr/bin/openssl with argv: exit status and combined output.
enum OpenSSL {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let outcome = try ScriptRunner.run(["/usr/bin/openssl"] + arguments, combinedOutput: true)
        return (outcome.status, outcome.stdout)
    }
}

@Suite(
    "a stale saved plan says what changed",
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct StalePlanMessageTests {
    @Test func namesTheChangedService() throws {
        let topdir = try ExampleTopdir.make("sslm-stale", ecKeys: false)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        #expect(try SSLMProcess.run(["apply", "--topdir", topdir]).status == 0)
        let planFile = topdir + "/plan.json"
        let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(65 * 86_400))
        #expect(
            try SSLMProcess.run(["plan", "-o", planFile, "--topdir", topdir], environment: ["SSLM_NOW": later]).status
                == 0)
        let file = topdir + "/prod-certs/example.net/web-ec/curr/cert.pem"
        try (String(contentsOfFile: file, encoding: .utf8) + "\n").write(
            toFile: file, atomically: true, encoding: .utf8)
        let stale = try SSLMProcess.run(["apply", planFile, "--topdir", topdir], environment: ["SSLM_NOW": later])
        #expect(stale.status == 3)
        #expect(stale.stderr.contains("changed since the plan was made: example.net/web-ec"), "\(stale.stderr)")
    }
}
