import Foundation
import SSLMTestSupport
import Testing

/// One service whose signing fails: the others are done, its production files stay as they were, the run
/// exits non-zero with the reason, and the next run tries again.
@Suite(
    "Failure isolation through the CLI",
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct FailureIsolationCLITests {
    /// name → bytes of every file under `directory`.
    private static func snapshot(_ directory: String) -> [String: Data] {
        var result: [String: Data] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return result }
        for case let path as String in enumerator {
            var isDirectory: ObjCBool = false
            let full = directory + "/" + path
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[path] = FileManager.default.contents(atPath: full)
            }
        }
        return result
    }

    @Test func signingFailureIsContained() throws {
        let topdir = try ExampleTopdir.make("sslm-isolation")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let install = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        let prodBefore = Self.snapshot(topdir + "/prod-certs/example.net/web-ec")
        let currBefore = try FileManager.default.destinationOfSymbolicLink(
            atPath: topdir + "/certs/example.net/web-ec/curr")
        #expect(!prodBefore.isEmpty)

        // example.net/web-ec becomes self-signed with the longest validity the config accepts (36500 days),
        // and the run pretends to be in the year 9950: every certificate is due, and web-ec's would end
        // beyond the year 9999, which no certificate can encode, so its signing fails at apply time. (A
        // larger sign_end_days is now a config error, caught before anything runs.)
        let broken = topdir + "/conf.d/example.net/web-ec"
        try
            (String(contentsOfFile: broken, encoding: .utf8)
            .replacingOccurrences(of: "signing_ca = 'my-int'", with: "signing_ca = 'self'")
            + "\n[CA]\n    sign_end_days = 36500\n    digest = 'sha384'\n")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let later = ["SSLM_NOW": "9950-01-01T00:00:00Z"]
        let apply = try SSLMProcess.run(["apply", "--topdir", topdir], environment: later)
        #expect(apply.status == 1, "\(apply.stdout)\(apply.stderr)")
        #expect(
            apply.stdout.contains("FAILED  example.net/web-ec/next/cert: signing the certificate failed"),
            "\(apply.stdout)")
        #expect(apply.stdout.contains("skipped example.net/web-ec/prod"))
        for leaf in ["example.com/mail-ec", "example.com/mail-rsa", "example.com/web-ec"] {
            #expect(
                apply.stdout.contains("done    \(leaf)/next/bundle"), "\(leaf) renewed despite the failure elsewhere")
            #expect(FileManager.default.fileExists(atPath: topdir + "/prod-certs/\(leaf)/next/cert.pem"))
        }
        #expect(
            Self.snapshot(topdir + "/prod-certs/example.net/web-ec") == prodBefore,
            "production of the failed service is unchanged")
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: topdir + "/certs/example.net/web-ec/curr")
                == currBefore)
        // The next run plans the failed service again.
        let plan = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir], environment: later)
        #expect(plan.status == 2)
        #expect(plan.stdout.contains("example.net/web-ec/next/cert"), "\(plan.stdout)")
    }
}
