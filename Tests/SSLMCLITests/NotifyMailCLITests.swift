import Foundation
import SSLMTestSupport
import Testing

/// `[notify]` through `sslm apply`: the mail goes through the sendmail -t interface (here a sink program that
/// records what it receives, in the place of /usr/sbin/sendmail), names what needs a person and what to do,
/// and is sent at most once a day per condition.
@Suite(.serialized, .enabled(if: TestTier.full, "applies the example: not in make check"))
struct NotifyMailCLITests {
    static func topdir() throws -> String {
        let topdir = try ExampleTopdir.make("sslm-notify")
        try FileManager.default.createDirectory(atPath: topdir + "/bin", withIntermediateDirectories: true)
        let sink = topdir + "/bin/sendmail"
        try """
        #!/bin/sh
        mkdir -p "$(dirname "$0")/../mails"
        n=$(ls "$(dirname "$0")/../mails" | wc -l)
        { echo "argv: $*"; cat; } > "$(dirname "$0")/../mails/$n"
        """.write(toFile: sink, atomically: true, encoding: .utf8)
        #expect(chmod(sink, 0o755) == 0)
        let main = topdir + "/conf.d/ssl-mgr.conf"
        try
            (String(contentsOfFile: main, encoding: .utf8)
            + "\n[notify]\n    email = ['hostmaster@example.com', 'ops@example.org']\n"
            + "    sendmail = ['bin/sendmail', '-t', '-oi']\n    expiry_days = 365\n")
            .write(toFile: main, atomically: true, encoding: .utf8)
        return topdir
    }

    static func mails(_ topdir: String) -> [String] {
        let directory = topdir + "/mails"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted {
            (Int($0) ?? 0) < (Int($1) ?? 0)
        }
        return names.compactMap { try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
    }

    @Test func aConditionIsMailedOnceADay() throws {
        let topdir = try Self.topdir()
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let t0 = Date()
        func apply(_ at: Date) throws {
            let run = try SSLMProcess.run(
                ["apply", "--topdir", topdir], environment: ["SSLM_NOW": ISO8601DateFormatter().string(from: at)])
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        }
        try apply(t0)
        var mails = Self.mails(topdir)
        #expect(mails.count == 1, "one mail after the run")
        let mail = try #require(mails.first)
        #expect(mail.hasPrefix("argv: -t -oi\nTo: hostmaster@example.com, ops@example.org\n"), "\(mail)")
        #expect(mail.contains("Subject: sslm on ") && mail.contains("problem(s) need attention"), "\(mail)")
        #expect(mail.contains("- example.com/mail-ec: curr expires in 9"), "expiry within expiry_days: \(mail)")
        #expect(mail.contains("What to do: run `sslm plan example.com:mail-ec`"), "\(mail)")
        #expect(!mail.contains("PRIVATE KEY"))
        try apply(t0.addingTimeInterval(3600))
        #expect(Self.mails(topdir).count == 1, "not again within a day")
        try apply(t0.addingTimeInterval(25 * 3600))
        mails = Self.mails(topdir)
        #expect(mails.count == 2, "again after a day while it lasts")
    }

    @Test func configCheckRefusesABadAddress() throws {
        let topdir = try ExampleTopdir.make("sslm-notify-bad")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let main = topdir + "/conf.d/ssl-mgr.conf"
        try
            (String(contentsOfFile: main, encoding: .utf8)
            + "\n[notify]\n    email = ['root@localhost\\nBcc: x@example.com']\n    expiry_days = 0\n")
            .write(toFile: main, atomically: true, encoding: .utf8)
        let check = try SSLMProcess.run(["config", "check", "--topdir", topdir])
        let text = check.stdout + check.stderr
        #expect(check.status == 1, "\(text)")
        #expect(text.contains("[notify] email") && text.contains("expected mail addresses"), "\(text)")
        #expect(text.contains("[notify] expiry_days"), "\(text)")
    }
}
