import Foundation
import SSLMTestSupport
import Testing

/// Issue 17, "small things found": the plan view's kind column, a misspelt server table, a FIFO or a
/// device as a service file, hex serials, `status --test`.
@Suite struct SmallFixesCLITests {
    /// Every kind name fits its column: `answer_challenges` and `publish_challenges` do not run into the id.
    @Test func theKindColumnFitsTheLongestKind() throws {
        let plan = SSLMProcess.repositoryRoot + "/Tests/SSLMPlanTests/Golden/acme-fresh-install.json"
        let shown = try SSLMProcess.run(["show", plan])
        #expect(shown.status == 0, "\(shown.stderr)")
        let rows = shown.stdout.split(separator: "\n").filter { $0.hasPrefix("  + ") }
        #expect(rows.count > 20)
        #expect(rows.contains { $0.hasPrefix("  + answer_challenges   example.com/mail-ec/next/answer") }, "\(rows)")
        #expect(rows.contains { $0.hasPrefix("  + publish_challenges  example.com/acme/dns-01/publish") }, "\(rows)")
        // One column: every id starts at the same offset.
        let idColumn = Set(
            rows.map { row -> Int in
                let afterMark = row.dropFirst(4)
                let kindEnd = afterMark.firstIndex(of: " ") ?? afterMark.endIndex
                let idStart = afterMark[kindEnd...].firstIndex { $0 != " " } ?? afterMark.endIndex
                return afterMark.distance(from: afterMark.startIndex, to: idStart)
            })
        #expect(idColumn.count == 1, "ids start in one column: \(idColumn.sorted())")
    }

    @Test func aServerTableInAnotherCaseGetsAHint() throws {
        let topdir = try ExampleTopdir.make("sslm-web-hint")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let main = topdir + "/conf.d/ssl-mgr.conf"
        try (String(contentsOfFile: main, encoding: .utf8) + "\n[Web]\n    servers = ['www1.example.com']\n")
            .write(toFile: main, atomically: true, encoding: .utf8)
        let check = try SSLMProcess.run(["config", "check", "--topdir", topdir])
        #expect(check.stdout.contains("[Web]") || check.stderr.contains("[Web]"), "\(check.stdout)\(check.stderr)")
        #expect((check.stdout + check.stderr).contains("did you mean [web]?"), "\(check.stdout)\(check.stderr)")
    }

    @Test func aFIFOOrADeviceAsAServiceFileIsNamedForWhatItIs() throws {
        let topdir = try ExampleTopdir.make("sslm-fifo")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let service = topdir + "/conf.d/example.com/web-ec"
        try FileManager.default.removeItem(atPath: service)
        #expect(mkfifo(service, 0o644) == 0)
        let fifo = try SSLMProcess.run(["config", "check", "--topdir", topdir])
        #expect(fifo.status == 1, "\(fifo.stdout)\(fifo.stderr)")
        #expect(
            (fifo.stdout + fifo.stderr).contains("is a FIFO, a named pipe; not a regular file"),
            "\(fifo.stdout)\(fifo.stderr)")
        try FileManager.default.removeItem(atPath: service)
        try FileManager.default.createSymbolicLink(atPath: service, withDestinationPath: "/dev/zero")
        let zero = try SSLMProcess.run(["config", "check", "--topdir", topdir])
        #expect(zero.status == 1, "\(zero.stdout)\(zero.stderr)")
        #expect((zero.stdout + zero.stderr).contains("is a character device"), "\(zero.stdout)\(zero.stderr)")
    }

    /// `status --test` reports the staging state (`<topdir>/test/certs`), not the real one.
    @Test(.enabled(if: TestTier.full, "applies the example: not in make check"))
    func statusTestShowsTheStagingState() throws {
        let topdir = try ExampleTopdir.make("sslm-status-test")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let applied = try SSLMProcess.run(["apply", "--test", "--topdir", topdir])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let staging = try SSLMProcess.run(["status", "--test", "--json", "--topdir", topdir, "example.com:web-ec"])
        let real = try SSLMProcess.run(["status", "--json", "--topdir", topdir, "example.com:web-ec"])
        #expect(staging.status == 0 && real.status == 0, "\(staging.stderr)\(real.stderr)")
        func currSlots(_ json: String) throws -> Int {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            let services = object?["services"] as? [[String: Any]] ?? []
            return services.flatMap { $0["slots"] as? [[String: Any]] ?? [] }.filter { $0["slot"] as? String == "curr" }
                .count
        }
        #expect(try currSlots(staging.stdout) == 1, "the staging certificate: \(staging.stdout)")
        #expect(try currSlots(real.stdout) == 0, "no real certificate: \(real.stdout)")
        #expect(FileManager.default.fileExists(atPath: topdir + "/test/certs/example.com/web-ec/curr"))
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs/example.com/web-ec/curr"))
    }
}

/// A row of `sslm plan`'s text view: `+ <kind, in its column> <id>` (the column is as wide as the longest kind
/// name and two spaces).
func planRow(_ kind: String, _ id: String) -> String {
    "+ " + kind.padding(toLength: 20, withPad: " ", startingAt: 0) + id
}
