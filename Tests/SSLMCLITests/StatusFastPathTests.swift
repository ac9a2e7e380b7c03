import ArgumentParser
import Foundation
@testable import SSLMCLI
import SSLMTestSupport
import Testing

/// `StatusFastPath` reads plain `sslm status` command lines without ArgumentParser. Whatever it takes, the
/// parser must read the same way; whatever else it must leave to the parser.
@Suite struct StatusFastPathTests {
    /// The options ArgumentParser gives `arguments`, or nil when it does not parse them as `status`.
    static func parsed(_ arguments: [String]) -> StatusOptions? {
        guard let command = try? SSLMRootCommand.parseAsRoot(arguments) as? StatusCommand else { return nil }
        return command.options
    }

    @Test(
        "plain command lines: the same options as ArgumentParser's",
        arguments: [
            ["status"],
            ["status", "--topdir", "/srv/ssl"],
            ["status", "--topdir=/srv/ssl"],
            ["status", "-v", "--json"],
            ["status", "--verb", "--test", "--topdir", "/srv/ssl"],
            ["status", "--verbose", "ca:root", "d1.example:www,mail"],
            ["status", "d1.example:ALL", "--topdir", "relative/dir", "d2.example"],
        ])
    func plainLines(arguments: [String]) throws {
        let fast = try #require(StatusFastPath.options(arguments))
        #expect(fast == Self.parsed(arguments))
    }

    @Test(
        "everything else is left to the parser",
        arguments: [
            ["plan"], ["status", "--help"], ["status", "-h"], ["status", "help"],
            ["status", "--now", "2027-01-01T00:00:00Z"],
            ["status", "--metrics-file", "/tmp/m.prom"], ["status", "--topdir"], ["status", "--topdir="],
            ["status", "--topdir", "--json"], ["status", "-v", "-v"], ["status", "-v", "--verbose"],
            ["status", "--json", "--json"], ["status", "--topdir", "/a", "--topdir=/b"], ["status", "--"],
            ["status", "-vj"], ["status", ""], ["status", "--bogus"], [], ["--version"], ["status", "--version"],
        ])
    func leftToTheParser(arguments: [String]) {
        #expect(StatusFastPath.options(arguments) == nil)
    }

    /// Random command lines from the tokens above: each one the fast path takes parses the same with
    /// ArgumentParser (a fixed seed, so a failure repeats).
    @Test func randomLinesAgree() {
        let tokens = [
            "--topdir", "/srv/ssl", "--topdir=/x", "--topdir=", "-v", "--verbose", "--verb", "--json", "--test",
            "ca:root", "d1.example:ALL", "--", "-h", "help", "", "-vj", "--now", "--metrics-file", "-x", "status",
        ]
        var generator = SplitMix64(seed: 0x5EED)
        var taken = 0
        for _ in 0..<1200 {
            let count = Int.random(in: 0...5, using: &generator)
            let arguments = ["status"] + (0..<count).map { _ in tokens.randomElement(using: &generator)! }
            guard let fast = StatusFastPath.options(arguments) else { continue }
            taken += 1
            #expect(fast == Self.parsed(arguments), "\(arguments)")
        }
        #expect(taken > 100, "the corpus exercises the fast path (\(taken) of 1200 lines)")
    }

    /// The real binary: the same output and exit status through the fast path as through the parser
    /// (`--now` sends a command line to the parser; SSLM_NOW gives the fast path the same time).
    @Test func sameOutputBothWays() throws {
        let topdir = try ExampleTopdir.make("sslm-status-fast")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let now = "2027-01-15T12:00:00Z"
        let apply = try SSLMProcess.run(["apply", "--topdir", topdir], environment: ["SSLM_NOW": now])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        let cases: [[String]] = [
            ["status", "--topdir", topdir],
            ["status", "--topdir", topdir, "--json", "-v"],
            ["status", "--topdir", topdir + "/missing"],
            ["status", "--topdir", topdir, "nosuch.example:www"],
        ]
        for arguments in cases {
            #expect(StatusFastPath.options(arguments) != nil)
            let fast = try SSLMProcess.run(arguments, environment: ["SSLM_NOW": now])
            let parsed = try SSLMProcess.run(arguments + ["--now", now])
            #expect(fast.status == parsed.status, "\(arguments)")
            #expect(fast.stdout == parsed.stdout, "\(arguments)")
            #expect(fast.stderr == parsed.stderr, "\(arguments)")
            #expect(!(fast.stdout + fast.stderr).isEmpty, "\(arguments) says something")
        }
    }
}
