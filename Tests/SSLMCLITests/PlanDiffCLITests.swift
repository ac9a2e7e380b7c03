import Foundation
import SSLMTestSupport
import Testing

/// `sslm show --diff` and `examples/ci/plan-diff` on the example: exit 0 for plans that would do the same,
/// 2 for plans that differ (naming the changed parameter), 1 for a file that is not a plan; the script
/// never writes the topdir.
@Suite struct PlanDiffCLITests {
    static let script = SSLMProcess.repositoryRoot + "/examples/ci/plan-diff"

    @Test func showDiffComparesWhatPlansWouldDo() throws {
        let topdir = try ExampleTopdir.make("sslm-diff")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let now = ["SSLM_NOW": "2027-01-01T00:00:00Z"]
        let first = topdir + "/first.json"
        let second = topdir + "/second.json"
        #expect(try SSLMProcess.run(["plan", "--topdir", topdir, "-o", first], environment: now).status == 0)
        let later = ["SSLM_NOW": "2027-01-01T00:05:00Z"]
        #expect(try SSLMProcess.run(["plan", "--topdir", topdir, "-o", second], environment: later).status == 0)
        let same = try SSLMProcess.run(["show", "--diff", first, second])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.hasPrefix("No differences: "), "\(same.stdout)")

        let service = topdir + "/conf.d/example.com/web-ec"
        let text = try String(contentsOfFile: service, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "'www.example.com'", with: "'www.example.com', 'shop.example.com'")
        #expect(edited != text, "the example's web-ec lists www.example.com")
        try edited.write(toFile: service, atomically: true, encoding: .utf8)
        let third = topdir + "/third.json"
        #expect(try SSLMProcess.run(["plan", "--topdir", topdir, "-o", third], environment: now).status == 0)
        let changed = try SSLMProcess.run(["show", "--diff", first, third])
        #expect(changed.status == 2, "\(changed.stdout)\(changed.stderr)")
        #expect(changed.stdout.contains("~ example.com/web-ec/next/csr (create_csr)"), "\(changed.stdout)")
        #expect(changed.stdout.contains("shop.example.com]"), "\(changed.stdout)")
        let json = try SSLMProcess.run(["show", "--diff", first, third, "--json"])
        #expect(json.status == 2)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["equal"] as? Bool == false)
        let subjects = object?["subjects"] as? [[String: Any]] ?? []
        #expect(subjects.contains { $0["subject"] as? String == "example.com/web-ec" }, "\(json.stdout)")

        let bad = try SSLMProcess.run(["show", "--diff", first, service])
        #expect(bad.status == 1, "\(bad.stdout)\(bad.stderr)")
        #expect(bad.stderr.contains(service), "the error names the file: \(bad.stderr)")
    }

    @Test func theCIScriptShowsAProposalAndWritesNothing() throws {
        let topdir = try ExampleTopdir.make("sslm-ci")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let proposal = topdir + "-proposal"
        defer { try? FileManager.default.removeItem(atPath: proposal) }
        #expect(try ScriptRunner.run(["/bin/cp", "-a", topdir + "/conf.d", proposal]).succeeded)
        let environment = [
            "PATH": URL(fileURLWithPath: SSLMProcess.executable).deletingLastPathComponent().path
                + ":/usr/bin:/bin"
        ]
        let before = ReadOnlyCommandTests.snapshot(topdir)
        let unchanged = try ScriptRunner.run(
            [Self.script, "--topdir", topdir, "--proposed", proposal], environment: environment)
        #expect(unchanged.status == 0, "\(unchanged.stdout)\(unchanged.stderr)")
        #expect(unchanged.stdout.contains("No differences"), "\(unchanged.stdout)")

        let service = proposal + "/example.com/web-ec"
        let text = try String(contentsOfFile: service, encoding: .utf8)
        try text.replacingOccurrences(of: "'www.example.com'", with: "'www.example.com', 'shop.example.com'")
            .write(toFile: service, atomically: true, encoding: .utf8)
        let markdown = topdir + "-plan.md"
        defer { try? FileManager.default.removeItem(atPath: markdown) }
        let changed = try ScriptRunner.run(
            [Self.script, "--topdir", topdir, "--proposed", proposal, "--markdown", markdown],
            environment: environment)
        #expect(changed.status == 2, "\(changed.stdout)\(changed.stderr)")
        #expect(changed.stdout.contains("Differences from current to proposed"), "\(changed.stdout)")
        #expect(changed.stdout.contains("example.com/web-ec/next/csr"), "\(changed.stdout)")
        let comment = (try? String(contentsOfFile: markdown, encoding: .utf8)) ?? ""
        #expect(comment.hasPrefix("### sslm: what this config change would do") && comment.contains("```text"))
        #expect(ReadOnlyCommandTests.snapshot(topdir) == before, "the topdir is not written")

        let broken = try ScriptRunner.run(
            [Self.script, "--topdir", topdir, "--proposed", topdir + "/nonexistent"], environment: environment)
        #expect(broken.status == 1, "\(broken.stdout)\(broken.stderr)")
    }
}
