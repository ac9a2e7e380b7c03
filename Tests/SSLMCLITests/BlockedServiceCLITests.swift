import Foundation
import SSLMTestSupport
import Testing

/// A blocked service (one sslm cannot act on until a person fixes it) is not success: apply exits 1 and
/// leaves `last-success` alone, `plan --detailed-exitcode` exits 2, `status` and `sslm-mgr` say why.
@Suite("Blocked is not success", .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct BlockedServiceCLITests {
    @Test func aBlockedServiceFailsTheRun() throws {
        let topdir = try ExampleTopdir.make("sslm-blocked")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let installed = try SSLMProcess.run(
            ["apply", "--topdir", topdir], environment: ["SSLM_NOW": "2027-01-14T12:00:00Z"])
        #expect(installed.status == 0, "\(installed.stdout)\(installed.stderr)")
        let lastSuccess = topdir + "/.sslm/last-success"
        let before = try String(contentsOfFile: lastSuccess, encoding: .utf8)

        // curr of one service becomes a plain file: sslm will not guess what was meant.
        let curr = topdir + "/certs/example.net/web-ec/curr"
        try FileManager.default.removeItem(atPath: curr)
        try "not a link\n".write(toFile: curr, atomically: true, encoding: .utf8)
        let later = ["SSLM_NOW": "2027-01-15T12:00:00Z"]

        let apply = try SSLMProcess.run(["apply", "--topdir", topdir], environment: later)
        #expect(apply.status == 1, "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stderr.contains("blocked") && apply.stderr.contains("example.net/web-ec"), "\(apply.stderr)")
        #expect(try String(contentsOfFile: lastSuccess, encoding: .utf8) == before, "last-success is not touched")

        let plan = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir], environment: later)
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("blocked"), "\(plan.stdout)")

        let status = try SSLMProcess.run(["status", "--topdir", topdir], environment: later)
        #expect(status.stdout.contains("blocked") && status.stdout.contains("not a symbolic link"), "\(status.stdout)")

        let mgr = topdir + "/sslm-mgr"
        try FileManager.default.createSymbolicLink(atPath: mgr, withDestinationPath: SSLMProcess.executable)
        let legacy = try SSLMProcess.run(["-renew", "-roll", "--topdir", topdir], environment: later, executable: mgr)
        #expect(legacy.status == 1, "\(legacy.stdout)\(legacy.stderr)")
        #expect(legacy.stderr.contains("blocked"), "\(legacy.stderr)")

        // Fixed by hand: the run succeeds again and records it.
        try FileManager.default.removeItem(atPath: curr)
        let fixed = try SSLMProcess.run(["apply", "--topdir", topdir], environment: later)
        #expect(fixed.status == 0, "\(fixed.stdout)\(fixed.stderr)")
        #expect(try String(contentsOfFile: lastSuccess, encoding: .utf8) != before)
    }
}
