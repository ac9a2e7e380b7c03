import Foundation
import SSLMTestSupport
import Testing

/// `sslm plan` (and `status`, `show`, `config check`, `sslm-mgr -s/-n`) write nothing: every file and
/// directory of the topdir keeps its type, size, mode and modification time, before the first apply and
/// after it, with a plan that has nothing to do and one that renews. (The DANE and ARI paths, which write
/// only under `apply`, are checked in DANERolloverTests and ACMERenewalInfoTests.)
@Suite struct ReadOnlyCommandTests {
    /// One line per entry below `root`: relative path, type, mode, size, modification time (ns).
    static func snapshot(_ root: String) -> [String] {
        var lines: [String] = []
        func walk(_ relative: String) {
            let path = relative.isEmpty ? root : root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            let nanoseconds = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
            lines.append("\(relative) \(info.st_mode) \(info.st_size) \(nanoseconds)")
            guard info.st_mode & S_IFMT == S_IFDIR,
                let names = try? FileManager.default.contentsOfDirectory(atPath: path)
            else { return }
            for name in names.sorted() { walk(relative.isEmpty ? name : relative + "/" + name) }
        }
        walk("")
        return lines
    }

    /// Runs each read-only command at `now` and expects the topdir unchanged afterwards.
    static func expectNoWrites(_ topdir: String, now: String, _ label: String) throws {
        let before = snapshot(topdir)
        let environment = ["SSLM_NOW": now]
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-ro-\(UUID().uuidString).json")
            .path
        defer { try? FileManager.default.removeItem(atPath: saved) }
        let commands: [[String]] = [
            ["plan", "--topdir", topdir],
            ["plan", "--json", "--topdir", topdir],
            ["plan", "--detailed-exitcode", "--topdir", topdir],
            ["plan", "--phase", "renew", "--force", "--topdir", topdir, "-o", saved],
            ["show", saved],
            ["status", "--topdir", topdir],
            ["config", "check", "--topdir", topdir],
        ]
        for arguments in commands {
            let run = try SSLMProcess.run(arguments, environment: environment)
            #expect(run.status == 0 || run.status == 2, "\(label): \(arguments): \(run.stdout)\(run.stderr)")
        }
        let after = snapshot(topdir)
        #expect(before.count > 3, "\(label): the snapshot sees the topdir")
        #expect(after == before, "\(label): changed: \(Set(after).symmetricDifference(Set(before)).sorted())")
    }

    @Test func readOnlyCommandsWriteNothing() throws {
        let topdir = try ExampleTopdir.make("sslm-readonly")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let formatter = ISO8601DateFormatter()
        let now = Date()
        try Self.expectNoWrites(topdir, now: formatter.string(from: now), "before the first apply")

        let apply = try SSLMProcess.run(
            ["apply", "--topdir", topdir], environment: ["SSLM_NOW": formatter.string(from: now)])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        try Self.expectNoWrites(topdir, now: formatter.string(from: now.addingTimeInterval(60)), "nothing to do")
        // Long after: every leaf certificate is due, so the plans have renewals (and the logs would be written
        // by an apply).
        let due = now.addingTimeInterval(80 * 86_400)
        let renewing = try SSLMProcess.run(
            ["plan", "--detailed-exitcode", "--topdir", topdir], environment: ["SSLM_NOW": formatter.string(from: due)])
        #expect(renewing.status == 2, "renewals are due: \(renewing.stdout)")
        try Self.expectNoWrites(topdir, now: formatter.string(from: due), "renewals due")
    }
}
