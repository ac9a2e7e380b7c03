import Foundation
import SSLMTestSupport
import Testing

extension DANERolloverTests {
    /// A roll whose restart is configured: `publish_tlsa` follows `restart_server`, and before it withdraws
    /// the old key's record it probes the STARTTLS server (at `[dns] dane_connect`). First the restart is
    /// `/bin/true` (it does not make the server load the new certificate): the old record stays published, the
    /// run says why (the endpoint and the key it presents) and still exits 0; after a reload by hand the next
    /// run withdraws it. Then the restart reloads the server: the old record goes in the roll's own run, after
    /// the probe.
    @Test func withdrawalAfterRestartIsProbed() throws {
        let bed = try WithdrawalBed()
        defer { bed.stop() }
        let minute: TimeInterval = 60
        try bed.setRestart("/bin/true")

        // 1. The restart changes nothing: the withdrawal is held after the probe.
        let oldKey = try Self.presentedSPKI(port: bed.smtpPort)
        let rollAt = try bed.renewAndWait(at: bed.t0 + 65 * 86_400)
        let plan = try bed.run(["plan"], at: rollAt)
        #expect(plan.stdout.contains("example.com/mail-ec/roll"), "\(plan.stdout)")
        #expect(plan.stdout.contains("example.com/tlsa/publish"), "a restart is planned: \(plan.stdout)")
        let verbose = try bed.run(["plan", "--verbose"], at: rollAt)
        #expect(verbose.stdout.contains("a probe finds no DANE endpoint"), "\(verbose.stdout)")
        let held = try bed.apply(rollAt, "roll, the restart does not reload")
        #expect(try Self.presentedSPKI(port: bed.smtpPort) == oldKey, "/bin/true reloaded nothing")
        #expect(
            held.stdout.contains("held, nothing published") && held.stdout.contains("127.0.0.1:\(bed.smtpPort)")
                && held.stdout.contains("still presents the key SPKI SHA-256 \(oldKey.prefix(16))"),
            "the run names the endpoint and the key it presents: \(held.stdout)")
        #expect(bed.published().contains(oldKey), "the old key's record stays published: \(bed.published())")
        try bed.waitForSecondary()
        try Self.expectDANEVerifies(bed.beds, smtpPort: bed.smtpPort, at: rollAt, "after the held withdrawal")
        let next = try bed.run(["plan"], at: rollAt + minute)
        #expect(next.stdout.contains("still presents prev's key"), "the next plan holds too: \(next.stdout)")

        // The server is fixed by hand: the next run withdraws the old record.
        let newKey = try bed.reloadByHandThenWithdraw(at: rollAt + 2 * minute, oldKey: oldKey)

        // 2. The restart reloads the server: the old record goes in the roll's run, after the probe.
        try bed.setRestart("\(Self.scripts)/smtp-dane-testbed reload \(bed.smtpDirectory)")
        let roll2 = try bed.renewAndWait(at: bed.t0 + 130 * 86_400)
        let rolled = try bed.apply(roll2, "roll, the restart reloads")
        let thirdKey = try Self.presentedSPKI(port: bed.smtpPort)
        #expect(thirdKey != newKey, "the restart made the server present the new key")
        #expect(
            rolled.stdout.contains("probed after the restart") && !rolled.stdout.contains("held, nothing published"),
            "\(rolled.stdout)")
        #expect(!bed.published().contains(newKey) && bed.published().contains(thirdKey), "\(bed.published())")
        try bed.waitForSecondary()
        try Self.expectDANEVerifies(bed.beds, smtpPort: bed.smtpPort, at: roll2, "after roll 2")
    }
}

/// nsd (`dns-testbed`) with the example's zone, the example topdir pointed at it, installed, and the STARTTLS
/// server serving mail-ec's production `curr`, probed through `[dns] dane_connect`.
struct WithdrawalBed {
    let work: String
    let topdir: String
    let beds: DANERolloverTests.Beds
    let smtpPort: String
    let t0 = Date()
    var smtpDirectory: String { beds.smtpDirectory }
    var main: String { topdir + "/conf.d/ssl-mgr.conf" }
    var tlsaDirectory: String { beds.dns["DNS_TLSA_DIR"] ?? "" }

    /// Starts the test beds and installs; on a failure, stops what it started.
    init() throws {
        let scripts = DANERolloverTests.scripts
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-probe-\(UUID().uuidString)").path
        self.work = work
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let (dnsDirectory, smtpDirectory) = (work + "/dns", work + "/smtp")
        var made: String?
        do {
            let started = try ScriptRunner.run([
                scripts + "/dns-testbed", "start", dnsDirectory, "--zones", "example.com",
            ])
            guard started.succeeded else { throw TestbedError("dns-testbed start: \(started.stderr)") }
            let dns = try ACMETestbed.readEnv(dnsDirectory + "/env")
            let topdir = try ExampleTopdir.make("sslm-probe", keepPort25: true)
            made = topdir
            let main = topdir + "/conf.d/ssl-mgr.conf"
            try DANERolloverTests.pointExample(main: main, at: dns, dnsDirectory: dnsDirectory)
            let install = try SSLMProcess.run(["apply", "--topdir", topdir], environment: Self.env(t0))
            guard install.status == 0 else { throw TestbedError("install: \(install.stdout)\(install.stderr)") }
            let prodCurr = topdir + "/prod-certs/example.com/mail-ec/curr"
            let smtp = try ScriptRunner.run([
                scripts + "/smtp-dane-testbed", "start", smtpDirectory,
                "--cert", prodCurr + "/fullchain.pem", "--key", prodCurr + "/privkey.pem",
            ])
            guard smtp.succeeded else { throw TestbedError("smtp-dane-testbed start: \(smtp.stderr)") }
            let port = try ACMETestbed.readEnv(smtpDirectory + "/env")["SMTP_PORT"] ?? ""
            let probed = try String(contentsOfFile: main, encoding: .utf8)
                .replacingOccurrences(
                    of: "[dns]\n", with: "[dns]\n    dane_connect = ['mail.example.com=127.0.0.1:\(port)']\n")
            try probed.write(toFile: main, atomically: true, encoding: .utf8)
            self.topdir = topdir
            self.smtpPort = port
            self.beds = DANERolloverTests.Beds(dns: dns, dnsDirectory: dnsDirectory, smtpDirectory: smtpDirectory)
        } catch {
            _ = try? ScriptRunner.run([scripts + "/smtp-dane-testbed", "stop", smtpDirectory])
            _ = try? ScriptRunner.run([scripts + "/dns-testbed", "stop", dnsDirectory])
            try? FileManager.default.removeItem(atPath: work)
            if let made { try? FileManager.default.removeItem(atPath: made) }
            throw error
        }
    }

    func stop() {
        let scripts = DANERolloverTests.scripts
        _ = try? ScriptRunner.run([scripts + "/smtp-dane-testbed", "stop", beds.smtpDirectory])
        _ = try? ScriptRunner.run([scripts + "/dns-testbed", "stop", beds.dnsDirectory])
        try? FileManager.default.removeItem(atPath: work)
        try? FileManager.default.removeItem(atPath: topdir)
    }

    static func env(_ at: Date) -> [String: String] { ["SSLM_NOW": ISO8601DateFormatter().string(from: at)] }

    /// `[smtp]` restarts this machine with `command` after a roll of mail-ec or mail-rsa.
    func setRestart(_ command: String) throws {
        var config = try String(contentsOfFile: main, encoding: .utf8)
        if let start = config.range(of: "[smtp]\n") {
            let end = config.range(of: "\n[", range: start.upperBound..<config.endIndex)?.lowerBound ?? config.endIndex
            config.replaceSubrange(start.lowerBound..<end, with: "")
        }
        config += """

            [smtp]
                servers = ['\(LocalHostName.current)']
                restart_cmd = '\(command)'
                svc_depends = [['example.com', ['mail-ec', 'mail-rsa']]]

            """
        try config.write(toFile: main, atomically: true, encoding: .utf8)
    }

    func run(_ arguments: [String], at: Date) throws -> SSLMProcess.Output {
        try SSLMProcess.run(arguments + ["--topdir", topdir], environment: Self.env(at))
    }

    func apply(_ at: Date, _ step: String) throws -> SSLMProcess.Output {
        let run = try run(["apply"], at: at)
        #expect(run.status == 0, "\(step): \(run.stdout)\(run.stderr)")
        return run
    }

    /// Renews at `at`, lets the secondary catch up, records the records as seen; returns when the roll is due.
    func renewAndWait(at: Date) throws -> Date {
        _ = try apply(at, "renew")
        try waitForSecondary()
        _ = try apply(at + 60, "records seen by all")
        return at + 95 * 60
    }

    /// Reloads the STARTTLS server by hand, then applies at `at`: the old key's record is withdrawn, the
    /// new key's stays, and DANE verifies. Returns the new key's SPKI digest.
    func reloadByHandThenWithdraw(at: Date, oldKey: String) throws -> String {
        try ScriptRunner.run([DANERolloverTests.scripts + "/smtp-dane-testbed", "reload", smtpDirectory])
            .expectSuccess("reload")
        let newKey = try DANERolloverTests.presentedSPKI(port: smtpPort)
        #expect(newKey != oldKey, "the reload made the server present the new key")
        _ = try apply(at, "withdrawal after the reload")
        #expect(!published().contains(oldKey) && published().contains(newKey), "\(published())")
        try waitForSecondary()
        try DANERolloverTests.expectDANEVerifies(beds, smtpPort: smtpPort, at: at, "after the withdrawal")
        return newKey
    }

    func published() -> String {
        (try? String(contentsOfFile: tlsaDirectory + "/tlsa.example.com", encoding: .utf8)) ?? ""
    }

    func waitForSecondary() throws {
        let (primary, secondary) = (beds.dns["DNS_PRIMARY"] ?? "", beds.dns["DNS_SECONDARY"] ?? "")
        var rounds = 0
        while try DANERolloverTests.serial(at: secondary) != DANERolloverTests.serial(at: primary), rounds < 100 {
            usleep(100_000)
            rounds += 1
        }
    }
}
