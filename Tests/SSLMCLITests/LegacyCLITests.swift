import Foundation
import SSLMTestSupport
import Testing

/// The ssl-mgr command lines of its manual, run through `sslm-mgr` (a symlink to sslm) on a test topdir.
@Suite(
    "sslm-mgr: the ssl-mgr command line", .serialized,
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct LegacyCLITests {
    /// A topdir with the example (DANE on 465, EC keys: no DNS lookup, fast), and an `sslm-mgr` symlink.
    private func setUp() throws -> (topdir: String, mgr: String) {
        let topdir = try ExampleTopdir.make("sslm-legacy")
        try FileManager.default.createDirectory(atPath: topdir + "/bin", withIntermediateDirectories: true)
        let mgr = topdir + "/bin/sslm-mgr"
        try FileManager.default.createSymbolicLink(atPath: mgr, withDestinationPath: SSLMProcess.executable)
        return (topdir, mgr)
    }

    private func run(_ mgr: String, _ arguments: [String], in topdir: String, env: [String: String] = [:]) throws
        -> SSLMProcess.Output
    {
        try SSLMProcess.run(arguments, environment: env, workingDirectory: topdir, executable: mgr)
    }

    private func link(_ topdir: String, _ service: String, _ slot: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: topdir + "/certs/\(service)/\(slot)")
    }

    @Test("-renew then -roll bootstraps the CAs and the leaves like ssl-mgr's make-ca; -s shows them")
    func renewRollStatus() throws {
        let (topdir, mgr) = try setUp()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        // ssl-mgr's make-ca: renew + roll the root, then the intermediate; then everything.
        for target in ["ca:my-root", "ca:my-int"] {
            let renew = try run(mgr, ["-renew", target], in: topdir)
            #expect(renew.status == 0, "\(renew.stdout)\(renew.stderr)")
            #expect(renew.stdout.contains("create_next"))
            let roll = try run(mgr, ["-roll", target], in: topdir)
            #expect(roll.status == 0, "\(roll.stdout)\(roll.stderr)")
        }
        #expect(link(topdir, "ca/my-int", "curr") != nil)
        let renew = try run(mgr, ["-renew"], in: topdir)
        #expect(renew.status == 0, "\(renew.stdout)\(renew.stderr)")
        #expect(
            link(topdir, "example.com/web-ec", "next") != nil && link(topdir, "example.com/web-ec", "curr") == nil,
            "-renew builds next only: the roll is a separate phase")
        let roll = try run(mgr, ["-roll"], in: topdir)
        #expect(roll.status == 0, "\(roll.stdout)\(roll.stderr)")
        #expect(link(topdir, "example.com/web-ec", "curr") != nil && link(topdir, "example.com/web-ec", "next") == nil)
        let status = try run(mgr, ["-s"], in: topdir)
        #expect(status.status == 0)
        #expect(status.stdout.components(separatedBy: "curr         : expires:").count - 1 == 6)
        // Everything in sync now: the new command line agrees.
        #expect(try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir]).status == 0)
    }

    @Test("-renew -roll -f and dev -keys -csr -cert -ntoc replace the certificate in one run, pending next or not")
    func replaceNow() throws {
        let (topdir, mgr) = try setUp()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let made = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
        let service = "example.com/web-ec"
        let first = link(topdir, service, "curr")
        // ssl-mgr: -f skips the expiry decision and the minimum age: a new certificate becomes curr now.
        let replaced = try run(mgr, ["-renew", "-roll", "-f", "example.com:web-ec"], in: topdir)
        #expect(replaced.status == 0, "\(replaced.stdout)\(replaced.stderr)")
        let second = link(topdir, service, "curr")
        #expect(second != nil && second != first && link(topdir, service, "next") == nil, "\(replaced.stdout)")
        // With a pending next: that next is replaced by a new one, which rolls.
        let pending = try run(mgr, ["-renew", "-f", "example.com:web-ec"], in: topdir)
        #expect(pending.status == 0 && link(topdir, service, "next") != nil, "\(pending.stdout)\(pending.stderr)")
        let pendingNext = link(topdir, service, "next")
        sleep(1)  // db directories are named to the second
        let again = try run(mgr, ["-renew", "-roll", "-f", "example.com:web-ec"], in: topdir)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        let third = link(topdir, service, "curr")
        #expect(third != second && third != pendingNext && link(topdir, service, "next") == nil, "\(again.stdout)")
        sleep(1)
        let dev = try run(mgr, ["dev", "-keys", "-csr", "-cert", "-ntoc", "example.com:web-ec"], in: topdir)
        #expect(dev.status == 0, "\(dev.stdout)\(dev.stderr)")
        #expect(link(topdir, service, "curr") != third && link(topdir, service, "next") == nil, "\(dev.stdout)")
        // Production follows in the same run.
        let production = try FileManager.default.contentsOfDirectory(atPath: topdir + "/prod-certs/\(service)")
        #expect(!production.contains("next"), "\(production)")
    }

    @Test("-renew example.com:mail-ec,mail-rsa renews just those two (forced with -f)")
    func renewTargets() throws {
        let (topdir, mgr) = try setUp()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        #expect(try SSLMProcess.run(["apply", "--topdir", topdir]).status == 0)
        let renew = try run(mgr, ["-renew", "-f", "example.com:mail-ec,mail-rsa"], in: topdir)
        #expect(renew.status == 0, "\(renew.stdout)\(renew.stderr)")
        #expect(link(topdir, "example.com/mail-ec", "next") != nil)
        #expect(link(topdir, "example.com/mail-rsa", "next") != nil)
        #expect(link(topdir, "example.com/web-ec", "next") == nil)
        let early = try run(mgr, ["-roll", "example.com:mail-ec,mail-rsa"], in: topdir)
        #expect(early.status == 0)
        #expect(link(topdir, "example.com/mail-ec", "next") != nil, "too soon to roll (min_roll_mins 90)")
        let forced = try run(mgr, ["-roll", "-f", "example.com:mail-ec,mail-rsa"], in: topdir)
        #expect(forced.status == 0, "\(forced.stdout)")
        #expect(link(topdir, "example.com/mail-ec", "next") == nil)
    }

    @Test("dev --force --certs-to-prod restores production; dev --force-server-restarts restarts and refreshes DNS")
    func devModes() throws {
        let (topdir, mgr) = try setUp()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let recordFile = topdir + "/commands.log"
        let recorder = topdir + "/bin/record"
        try "#!/bin/sh\necho \"$*\" >> '\(recordFile)'\n".write(toFile: recorder, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: recorder)
        var host = [CChar](repeating: 0, count: 256)
        _ = gethostname(&host, host.count - 1)
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let main = topdir + "/conf.d/ssl-mgr.conf"
        try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(of: "restart_cmd = ''", with: "restart_cmd = '\(recorder) dns'")
            .replacingOccurrences(
                of: "[imap]\n    servers = []",
                with: "[imap]\n    servers = ['\(hostName)']\n    restart_cmd = '\(recorder) imap'"
            )
            .write(toFile: main, atomically: true, encoding: .utf8)
        #expect(try SSLMProcess.run(["apply", "--topdir", topdir]).status == 0)
        try? FileManager.default.removeItem(atPath: recordFile)

        let unchanged = try run(mgr, ["dev", "--force", "--certs-to-prod"], in: topdir)
        #expect(unchanged.status == 0, "\(unchanged.stdout)\(unchanged.stderr)")
        #expect(unchanged.stdout.contains("certs-to-prod: copying certs/example.com/web-ec to production"))
        let prodCert = topdir + "/prod-certs/example.com/web-ec/curr/cert.pem"
        try FileManager.default.removeItem(atPath: prodCert)
        let restore = try run(mgr, ["dev", "-certs-prod"], in: topdir)
        #expect(restore.status == 0)
        #expect(FileManager.default.fileExists(atPath: prodCert))

        let restarts = try run(mgr, ["dev", "--force-server-restarts"], in: topdir)
        #expect(restarts.status == 0, "\(restarts.stdout)\(restarts.stderr)")
        let lines = ((try? String(contentsOfFile: recordFile, encoding: .utf8)) ?? "").split(separator: "\n").map(
            String.init)
        #expect(lines == ["imap", "dns --serial_bump example.com example.net"], "\(lines)")
    }

    @Test("-t works in a separate state (<topdir>/test, <prod>.test) and leaves the real one alone")
    func testMode() throws {
        let (topdir, mgr) = try setUp()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let dry = try run(mgr, ["-t", "-renew", "-d"], in: topdir)
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(dry.stdout.contains(topdir + "/test"), "the plan is for the test state: \(dry.stdout)")
        let renew = try run(mgr, ["-t", "-renew", "ca:my-root"], in: topdir)
        #expect(renew.status == 0, "\(renew.stdout)\(renew.stderr)")
        #expect(FileManager.default.fileExists(atPath: topdir + "/test/certs/ca/my-root/next/cert.pem"))
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs"), "the real certs/ is untouched")
    }

    @Test("-d prints the plan and changes nothing; bad options are errors with exit 1; -h prints usage")
    func debugAndErrors() throws {
        let (topdir, mgr) = try setUp()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let debug = try run(mgr, ["-renew", "-d"], in: topdir)
        #expect(debug.status == 0)
        #expect(debug.stdout.contains("(-d/-n: not applied)"))
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs"))
        let bad = try run(mgr, ["-keys"], in: topdir)
        #expect(bad.status == 1 && bad.stderr.contains("dev options need \"dev\" as the first argument"))
        let help = try run(mgr, ["-h"], in: topdir)
        #expect(help.status == 0 && help.stdout.contains("usage: sslm-mgr"))
    }
}
