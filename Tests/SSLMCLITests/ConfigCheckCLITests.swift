import Foundation
import SSLMTestSupport
import Testing

@Suite("sslm config check and the command-line shell")
struct ConfigCheckCLITests {
    /// A scratch topdir holding an unchanged copy of conf.d.example.
    private func exampleTopdir() throws -> String {
        try ExampleTopdir.make("sslm-cli", ecKeys: false, keepPort25: true)
    }

    @Test("conf.d.example: no errors and no warnings")
    func exampleIsClean() throws {
        let topdir = try exampleTopdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let result = try SSLMProcess.run(["config", "check", "--topdir", topdir])
        #expect(result.status == 0)
        #expect(result.stderr == "", "diagnostics: \(result.stderr)")
        #expect(result.stdout == "\(topdir)/conf.d: OK — 3 group(s), 6 service(s), 4 CA(s)\n")
    }

    @Test("the topdir comes from $SSL_MGR_TOPDIR, then the working directory")
    func topdirFromEnvironmentAndCwd() throws {
        let topdir = try exampleTopdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let viaEnv = try SSLMProcess.run(
            ["config", "check"], environment: ["SSL_MGR_TOPDIR": topdir], workingDirectory: "/")
        #expect(viaEnv.status == 0 && viaEnv.stdout.hasPrefix(topdir + "/conf.d: OK"))
        let viaCwd = try SSLMProcess.run(["config", "check"], workingDirectory: topdir)
        #expect(viaCwd.status == 0 && viaCwd.stdout.hasPrefix(topdir + "/conf.d: OK"))
    }

    @Test("a broken config: exit 1, every error on stderr with file and key")
    func brokenConfig() throws {
        let topdir = try exampleTopdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let file = topdir + "/conf.d/example.com/mail-ec"
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text = text.replacingOccurrences(of: "ec_algo = 'secp384r1'", with: "ec_algo = 'secp999r1'")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let caInfo = topdir + "/conf.d/ca-info.conf"
        try (String(contentsOfFile: caInfo, encoding: .utf8) + "\n[broken]\nca_type = 'magic'\n")
            .write(toFile: caInfo, atomically: true, encoding: .utf8)
        let result = try SSLMProcess.run(["config", "check", "--topdir", topdir])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "error: conf.d/example.com/mail-ec: [KeyOpts] ec_algo: unknown curve \"secp999r1\" (expected one of secp256r1, secp384r1, secp521r1)\n"
            ))
        #expect(result.stderr.contains("error: conf.d/ca-info.conf: [broken] ca_type: unknown CA type \"magic\""))
        #expect(result.stdout == "\(topdir)/conf.d: 2 error(s), 0 warning(s)\n")
    }

    @Test("--json gives machine-readable diagnostics")
    func json() throws {
        let topdir = try exampleTopdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let file = topdir + "/conf.d/example.net/web-ec"
        try (String(contentsOfFile: file, encoding: .utf8) + "\n[Unknown]\nx = 1\n").write(
            toFile: file, atomically: true, encoding: .utf8)
        let result = try SSLMProcess.run(["config", "check", "--json", "--topdir", topdir])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["ok"] as? Bool == true)
        let diagnostics = object?["diagnostics"] as? [[String: Any]]
        #expect(diagnostics?.count == 1)
        #expect(diagnostics?.first?["file"] as? String == "conf.d/example.net/web-ec")
        #expect(diagnostics?.first?["table"] as? String == "Unknown")
        #expect(diagnostics?.first?["severity"] as? String == "warning")
    }

    @Test("no topdir anywhere: exit 1 with what was tried")
    func noTopdir() throws {
        let scratch = try ScratchTopdir("sslm-empty")
        defer { scratch.remove() }
        let empty = scratch.path
        let result = try SSLMProcess.run(["config", "check", "--topdir", empty])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no conf.d directory in the given topdir: \(empty)/conf.d (--topdir)"))
    }

    @Test("--version and --help")
    func versionAndHelp() throws {
        let version = try SSLMProcess.run(["--version"])
        #expect(version.status == 0 && version.stdout == "0.1.0\n")
        let help = try SSLMProcess.run(["--help"])
        #expect(help.status == 0)
        for command in [
            "plan", "apply", "show", "status", "check", "revoke", "config", "info", "verify", "dhparam", "tlsa-hash",
        ] {
            #expect(help.stdout.contains("  \(command) "), "--help lists \(command)")
        }
    }

    @Test("check on the offline example before apply: both DANE services have no curr → exit 1, each named")
    func checkWithoutCertificates() throws {
        let topdir = try exampleTopdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let result = try SSLMProcess.run(["check", "--topdir", topdir])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        for service in ["example.com/mail-ec", "example.com/mail-rsa"] {
            #expect(
                result.stdout.contains("FAIL \(service): no curr certificate (certs/\(service)/curr/cert.pem)"),
                "\(result.stdout)")
        }
        #expect(result.stdout.contains("check: FAILED (2 service findings)"))
        #expect(!result.stderr.contains("not implemented"))
    }

    @Test("revoke refuses a service that no ACME CA issued, with the reason")
    func revokeLocal() throws {
        let topdir = try exampleTopdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let result = try SSLMProcess.run(["revoke", "example.com:web-ec", "--topdir", topdir])
        #expect(result.status == 1)
        #expect(result.stderr.contains("not by an ACME CA"))
    }
}
