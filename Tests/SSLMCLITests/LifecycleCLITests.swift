import Foundation
import SSLMTestSupport
import Testing

/// The renew → wait → roll cycle through the real executable, with injected time (SSLM_NOW) and
/// recording stand-in commands for the server restart and the DNS refresh.
@Suite(
    "Renew, wait, roll with injected time",
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct LifecycleCLITests {

    private static func records(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private static func tlsaRows(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix(";") }
    }

    @Test func renewWaitRoll() throws {
        let topdir = try ExampleTopdir.make("sslm-cycle")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        // A recording stand-in: appends its name and arguments to a file (sslm runs it as argv).
        let recordFile = topdir + "/commands.log"
        let recorder = topdir + "/record"
        try "#!/bin/sh\necho \"$*\" >> '\(recordFile)'\n".write(toFile: recorder, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: recorder)
        let main = topdir + "/conf.d/ssl-mgr.conf"
        try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(of: "restart_cmd = ''", with: "restart_cmd = '\(recorder) dns-refresh'")
            .replacingOccurrences(
                of: "[smtp]\n    servers = []",
                with: """
                    [smtp]
                        servers = ['\(LocalHostName.current)']
                        restart_cmd = '\(recorder) smtp-reload'
                        svc_depends = [['example.com', ['mail-ec', 'mail-rsa']]]
                    """
            )
            .write(toFile: main, atomically: true, encoding: .utf8)
        let t0 = Date()
        func at(_ seconds: TimeInterval) -> [String: String] {
            ["SSLM_NOW": ISO8601DateFormatter().string(from: t0.addingTimeInterval(seconds))]
        }
        let tlsa = topdir + "/certs/example.com/tlsa.example.com"
        let published = topdir + "/dns/include-tlsa/tlsa.example.com"

        // 1. Fresh install: every curr made; smtp restarts, then DNS is refreshed.
        let install = try SSLMProcess.run(["apply", "--topdir", topdir], environment: at(0))
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        #expect(Self.records(recordFile) == ["smtp-reload", "dns-refresh --serial_bump example.com"])
        let currRows = Self.tlsaRows(tlsa)
        #expect(!currRows.isEmpty)

        // 2. 65 days later the leaves are due: next is built, TLSA holds curr + next, DNS refreshed;
        //    servers are not restarted (curr did not change).
        let day: TimeInterval = 86_400
        let renew = try SSLMProcess.run(["apply", "--topdir", topdir], environment: at(65 * day))
        #expect(renew.status == 0, "\(renew.stdout)\(renew.stderr)")
        #expect(renew.stdout.contains("rolls to curr when it is 90 min old"))
        #expect(Self.records(recordFile).dropFirst(2) == ["dns-refresh --serial_bump example.com"])
        #expect(Self.tlsaRows(tlsa).count == 2 * currRows.count, "curr and next records are published")
        #expect(Self.tlsaRows(published) == Self.tlsaRows(tlsa))
        #expect(FileManager.default.fileExists(atPath: topdir + "/prod-certs/example.com/mail-ec/next/cert.pem"))

        // 3. 30 minutes later: too soon to roll, nothing changes.
        let wait = try SSLMProcess.run(
            ["plan", "--detailed-exitcode", "--topdir", topdir], environment: at(65 * day + 1800))
        #expect(wait.status == 0, "\(wait.stdout)")
        #expect(wait.stdout.contains("waiting_to_roll"))

        // 4. After min_roll_mins: roll; smtp restarts BEFORE the DNS refresh that withdraws the old records;
        //    TLSA shrinks to curr, production's next/ goes away.
        //    The example's DNS (127.0.0.1:53) does not answer, so the DANE services' roll waits: sslm never
        //    rolls a DANE service before its next records are seen on every name server (DANERolloverTests
        //    walks that with real servers). `--force --phase roll` is the operator's override.
        let blind = try SSLMProcess.run(
            ["plan", "--detailed-exitcode", "--topdir", topdir], environment: at(65 * day + 91 * 60))
        #expect(
            blind.stdout.contains("waiting_for_tlsa") && blind.stdout.contains("could not be observed"),
            "\(blind.stdout)")
        #expect(!blind.stdout.contains("example.com/mail-ec/roll"), "\(blind.stdout)")
        let roll = try SSLMProcess.run(
            ["apply", "--phase", "roll", "--force", "--topdir", topdir],
            environment: at(65 * day + 91 * 60))
        #expect(roll.status == 0, "\(roll.stdout)\(roll.stderr)")
        #expect(Self.records(recordFile).dropFirst(3) == ["smtp-reload", "dns-refresh --serial_bump example.com"])
        #expect(Self.tlsaRows(tlsa).count == currRows.count)
        #expect(Self.tlsaRows(tlsa) != currRows, "the records are those of the new certificates")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/prod-certs/example.com/mail-ec/next"))
        let after = try SSLMProcess.run(
            ["plan", "--detailed-exitcode", "--topdir", topdir], environment: at(65 * day + 92 * 60))
        #expect(after.status == 0, "\(after.stdout)")
    }
}
