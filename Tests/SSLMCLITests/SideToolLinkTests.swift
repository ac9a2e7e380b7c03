import Foundation
import SSLMTestSupport
import Testing

/// ssl-mgr's side tools by their installed names: each a symlink to `sslm`, which picks the tool by argv[0]
/// and takes ssl-mgr's options; the output is the same as the subcommand's.
@Suite struct SideToolLinkTests {
    static let fixtures = ToolsHarness.fixtures

    /// A directory with the four links, as `make install` makes them.
    static func links() throws -> ScratchTopdir {
        let directory = try ScratchTopdir("sslm-side-tools")
        for name in ["sslm-info", "sslm-verify", "sslm-tlsa-hash", "sslm-dhparm"] {
            try FileManager.default.createSymbolicLink(
                atPath: directory.path + "/" + name, withDestinationPath: SSLMProcess.executable)
        }
        return directory
    }

    @Test func eachLinkIsItsSubcommand() throws {
        let bin = try Self.links()
        let now = ["SSLM_NOW": "2027-02-01T00:00:00Z"]
        let certificate = Self.fixtures + "/ok/cert.pem"
        for (tool, subcommand, arguments) in [
            ("sslm-info", "info", [certificate]),
            ("sslm-verify", "verify", [Self.fixtures + "/ok"]),
            ("sslm-tlsa-hash", "tlsa-hash", [Self.fixtures + "/ok"]),
        ] {
            let linked = try SSLMProcess.run(arguments, environment: now, executable: bin.path + "/" + tool)
            let direct = try SSLMProcess.run([subcommand] + arguments, environment: now)
            #expect(linked.status == 0 && direct.status == 0, "\(tool): \(linked.stdout)\(linked.stderr)")
            #expect(
                !linked.stdout.isEmpty && linked.stdout == direct.stdout, "\(tool) prints what sslm \(subcommand) does")
        }
        let verbose = try SSLMProcess.run(["-v", certificate], environment: now, executable: bin.path + "/sslm-info")
        #expect(verbose.status == 0 && verbose.stdout.count > 0, "ssl-mgr's -v: \(verbose.stderr)")
        let help = try SSLMProcess.run(["-h"], executable: bin.path + "/sslm-verify")
        #expect(help.status == 0 && help.stdout.contains("USAGE: sslm verify"), "\(help.stdout)")
    }

    /// The cron line of ssl-mgr's examples: `sslm-dhparm -s <prod-certs>` (here with a fast numeric size).
    @Test func dhparmTakesSSLMgrsCronLine() throws {
        let bin = try Self.links()
        let prod = try ScratchTopdir("sslm-dhparm-prod")
        for group in ["example.com", "ca"] {
            try FileManager.default.createDirectory(atPath: prod.path + "/" + group, withIntermediateDirectories: true)
        }
        let run = try SSLMProcess.run(
            ["-k", "512,ffdhe2048", "-s", prod.path], executable: bin.path + "/sslm-dhparm")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let made = (try? FileManager.default.contentsOfDirectory(atPath: prod.path + "/example.com/dh")) ?? []
        #expect(
            made.contains("dh512.pem") && made.contains("dh-ffdhe2048.pem") && made.contains("dhparam.pem"), "\(made)")
        #expect(!FileManager.default.fileExists(atPath: prod.path + "/ca/dh"), "-s skips ca")
        let unknown = try SSLMProcess.run(["--no-such-option"], executable: bin.path + "/sslm-dhparm")
        #expect(unknown.status == 64, "a bad option is a usage error: \(unknown.stderr)")
    }
}
