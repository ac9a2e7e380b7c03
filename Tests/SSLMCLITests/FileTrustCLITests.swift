import Foundation
import SSLMTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Docs/apply.md "Files": the real binary never writes through a symlink that sslm manages (`.sslm/`, the
/// log file, the production tree below `prod_cert_dir`), reads files with a size limit, and keeps the
/// journal bounded.
@Suite(
    "Writes never follow symlinks, reads are bounded, the journal is compacted",
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct FileTrustCLITests {
    private static let fm = FileManager.default

    /// A file outside the topdir that a planted link points to; its content must survive.
    private static func victim(_ prefix: String) throws -> (path: String, content: String) {
        let path = fm.temporaryDirectory.appendingPathComponent("\(prefix)-victim-\(UUID().uuidString)").path
        let content = "precious: must not be touched by sslm\n"
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        return (path, content)
    }

    private static func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test("a symlinked .sslm/journal.jsonl: apply exits 1 naming it, the link's target is untouched")
    func journalSymlink() throws {
        let topdir = try ExampleTopdir.make("sslm-trust-journal")
        let victim = try Self.victim("journal")
        defer {
            try? Self.fm.removeItem(atPath: topdir)
            try? Self.fm.removeItem(atPath: victim.path)
        }
        try Self.fm.createDirectory(atPath: topdir + "/.sslm", withIntermediateDirectories: true)
        try Self.fm.createSymbolicLink(atPath: topdir + "/.sslm/journal.jsonl", withDestinationPath: victim.path)
        let result = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr.contains(".sslm/journal.jsonl: it is a symbolic link (to \(victim.path)); remove it"),
            "\(result.stderr)")
        #expect(Self.read(victim.path) == victim.content)
        #expect(!Self.fm.fileExists(atPath: topdir + "/certs/ca"), "no action ran")
    }

    @Test("a symlinked .sslm directory is refused too")
    func stateDirectorySymlink() throws {
        let topdir = try ExampleTopdir.make("sslm-trust-state")
        let elsewhere = Self.fm.temporaryDirectory.appendingPathComponent("sslm-trust-elsewhere-\(UUID())").path
        try Self.fm.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        defer {
            try? Self.fm.removeItem(atPath: topdir)
            try? Self.fm.removeItem(atPath: elsewhere)
        }
        try Self.fm.createSymbolicLink(atPath: topdir + "/.sslm", withDestinationPath: elsewhere)
        let result = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("/.sslm: it is a symbolic link"), "\(result.stderr)")
        #expect(try Self.fm.contentsOfDirectory(atPath: elsewhere).isEmpty, "nothing written through the link")
    }

    @Test("a symlinked log file: apply exits 1 naming it, the link's target is untouched")
    func logFileSymlink() throws {
        let topdir = try ExampleTopdir.make("sslm-trust-log")
        let victim = try Self.victim("log")
        defer {
            try? Self.fm.removeItem(atPath: topdir)
            try? Self.fm.removeItem(atPath: victim.path)
        }
        try Self.fm.createDirectory(atPath: topdir + "/logs", withIntermediateDirectories: true)
        try Self.fm.createSymbolicLink(atPath: topdir + "/logs/sslm", withDestinationPath: victim.path)
        let result = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr.contains("logs/sslm: it is a symbolic link (to \(victim.path)); remove it"),
            "\(result.stderr)")
        #expect(Self.read(victim.path) == victim.content)
        #expect(!Self.fm.fileExists(atPath: topdir + "/.sslm/journal.jsonl"), "the run stopped before the executor")
    }

    @Test("a symlinked prod-certs/<group>: its production sync fails naming it, the target directory stays empty")
    func productionGroupSymlink() throws {
        let topdir = try ExampleTopdir.make("sslm-trust-prod")
        let elsewhere = Self.fm.temporaryDirectory.appendingPathComponent("sslm-trust-prodtarget-\(UUID())").path
        try Self.fm.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        defer {
            try? Self.fm.removeItem(atPath: topdir)
            try? Self.fm.removeItem(atPath: elsewhere)
        }
        try Self.fm.createDirectory(atPath: topdir + "/prod-certs", withIntermediateDirectories: true)
        try Self.fm.createSymbolicLink(atPath: topdir + "/prod-certs/example.com", withDestinationPath: elsewhere)
        let result = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr.contains("prod-certs/example.com: it is a symbolic link (to \(elsewhere)); remove it"),
            "\(result.stderr)")
        #expect(try Self.fm.contentsOfDirectory(atPath: elsewhere).isEmpty, "nothing written through the link")
        // Groups without a link are deployed as usual.
        #expect(Self.fm.fileExists(atPath: topdir + "/prod-certs/example.net/web-ec/curr/fullchain.pem"))
    }

    @Test("a 4 GiB sparse cert.pem is a damaged curr: the plan names the file and the limit, apply replaces it")
    func oversizedCertificate() throws {
        let topdir = try ExampleTopdir.make("sslm-trust-big")
        defer { try? Self.fm.removeItem(atPath: topdir) }
        let first = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let currDirectory = try Self.fm.destinationOfSymbolicLink(atPath: topdir + "/certs/example.net/web-ec/curr")
        let certificate = topdir + "/certs/example.net/web-ec/" + currDirectory + "/cert.pem"
        #expect(truncate(certificate, 4 << 30) == 0, "sparse: costs no disk")

        let plan = try SSLMProcess.run(["plan", "--topdir", topdir])
        #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("cert.pem is 4 GiB, more than the 1 MiB a PEM file may have"), "\(plan.stdout)")

        let usage = try SSLMProcess.runMeasured(["apply", "--topdir", topdir])
        #expect(usage.output.status == 0, "\(usage.output.stdout)\(usage.output.stderr)")
        #expect(usage.maximumResidentKiB < 512 * 1024, "peak RSS \(usage.maximumResidentKiB) KiB: the file was read")
        let after = try Self.fm.destinationOfSymbolicLink(atPath: topdir + "/certs/example.net/web-ec/curr")
        #expect(after != currDirectory, "curr was replaced")
    }

    @Test("a journal of 100,000 old records is compacted by the next apply; a killed run still resumes")
    func journalCompaction() throws {
        let topdir = try ExampleTopdir.make("sslm-trust-compact")
        defer { try? Self.fm.removeItem(atPath: topdir) }
        let first = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let journal = topdir + "/.sslm/journal.jsonl"

        // Two old facts that must survive, then 100,000 records of 5,000 old plans, before the real ones.
        var text = ""
        text +=
            #"{"action":"example.org/old/next/order","detail":"synthetic-order","event":"ok","plan":"sha256:retained","time":"2020-01-02T00:00:00Z"}"#
            + "\n"
        text +=
            #"{"action":"server/mx9.example.com/copy","detail":"ssh: no route","event":"failed","plan":"sha256:retained","time":"2020-01-02T00:00:00Z"}"#
            + "\n"
        let actions = [
            "example.com/web-ec/next/dir", "example.com/web-ec/next/key", "example.com/web-ec/roll",
            "restart/mx9.example.com/smtp",
        ]
        for plan in 0..<5_000 {
            let digest = "sha256:" + String(repeating: "0", count: 56) + String(format: "%08x", plan)
            text += #"{"detail":"base old","event":"begin","plan":"\#(digest)","time":"2020-01-01T00:00:00Z"}"# + "\n"
            for index in 0..<19 {
                let action = actions[index % actions.count]
                text +=
                    #"{"action":"\#(action)","detail":"db/20200101-00:00:00","event":"ok","plan":"\#(digest)","time":"2020-01-01T00:00:01Z"}"#
                    + "\n"
            }
        }
        let real = try String(contentsOfFile: journal, encoding: .utf8)
        try (text + real).write(toFile: journal, atomically: true, encoding: .utf8)
        let before = try Self.size(journal)
        #expect(before > 10_000_000)

        // A forced renewal, killed after two actions.
        let killed = try SSLMProcess.run(
            ["apply", "--force", "example.net:web-ec", "--topdir", topdir],
            environment: ["SSLM_FAULT_KILL_AFTER_ACTIONS": "2"])
        #expect(killed.status != 0, "killed")
        let compacted = try Self.size(journal)
        #expect(compacted < 256 * 1024, "journal \(compacted) bytes after compaction (was \(before))")
        let kept = try String(contentsOfFile: journal, encoding: .utf8)
        #expect(kept.contains("synthetic-order"), "the newest ok of an ACME order is kept")
        #expect(kept.contains(#""action":"server/mx9.example.com/copy""#), "the last attempt of a copy is kept")
        #expect(!kept.contains(String(repeating: "0", count: 56) + "00000001"), "old plans are dropped")
        #expect(kept.contains(#""event":"start""#) && kept.contains("example.net/web-ec"), "the killed run's records")

        let resumed = try SSLMProcess.run(["apply", "--force", "example.net:web-ec", "--topdir", topdir])
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        let last = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").last ?? ""
        #expect(last.contains(#""detail":"ok","event":"end""#), "the resumed run ended well: \(last)")
        #expect(try Self.size(journal) < 256 * 1024)
    }

    private static func size(_ path: String) throws -> Int {
        try fm.attributesOfItem(atPath: path)[.size] as? Int ?? 0
    }
}

extension SSLMProcess {
    /// Runs the binary under `/usr/bin/time -f %M`: the output and the child's peak resident set in KiB.
    static func runMeasured(_ arguments: [String]) throws -> (output: Output, maximumResidentKiB: Int) {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-rss-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: report) }
        let output = try run(["-f", "%M", "-o", report, executable] + arguments, executable: "/usr/bin/time")
        let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
        let kib = Int(text.split(separator: "\n").last.map(String.init) ?? "") ?? Int.max
        return (output, kib)
    }
}
