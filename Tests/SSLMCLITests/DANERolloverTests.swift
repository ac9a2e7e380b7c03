import Foundation
import SSLMTestSupport
import Testing

/// The DANE publication lifecycle against real servers: nsd (a signing primary and a secondary that can be
/// held at an old serial, `dns-testbed`) serving the zone that `$INCLUDE`s sslm's `tlsa.example.com`, and a
/// STARTTLS SMTP server (`smtp-dane-testbed`) serving the production `curr` of example.com/mail-ec, reloaded
/// by `[smtp] restart_cmd`. Certificates come from the example's local CAs; time is injected (SSLM_NOW), so
/// renew → roll → renew → roll takes seconds.
///
/// At every step a checker asks both name servers for the TLSA records of `_25._tcp.mail.example.com`, keeps
/// those that every server serves, and has `openssl s_client -starttls smtp -dane_tlsa_rrdata …` verify the
/// certificate the SMTP server presents against them.
@Suite(
    "DANE rollover with nsd and a STARTTLS server", .serialized,
    .enabled(if: TestTier.full, "starts nsd and an SMTP server: not in make check"))
struct DANERolloverTests {
    static let scripts = SSLMProcess.repositoryRoot + "/scripts/testbed"

    /// The TLSA rdata (`3 1 1 hex`, lowercase) `server` serves for `name`.
    static func served(_ name: String, at server: String) throws -> Set<String> {
        let (host, port) = ACMETestbed.split(server)
        let dig = try ScriptRunner.run(["dig", "+short", "+norecurse", "-p", String(port), "@" + host, name, "TLSA"])
        var records: Set<String> = []
        for line in dig.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 4 else { continue }
            records.insert((fields[0...2] + [fields[3...].joined()]).joined(separator: " ").lowercased())
        }
        return records
    }

    static func serial(at server: String) throws -> String {
        let (host, port) = ACMETestbed.split(server)
        let dig = try ScriptRunner.run([
            "dig", "+short", "+norecurse", "-p", String(port), "@" + host, "example.com", "SOA",
        ])
        return dig.stdout.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
    }

    /// SHA-256 of the SPKI of the certificate the SMTP server presents (what a 3 1 1 record holds).
    static func presentedSPKI(port: String) throws -> String {
        let script =
            "echo QUIT | openssl s_client -starttls smtp -connect 127.0.0.1:\(port) 2>/dev/null"
            + " | openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r"
        let output = try ScriptRunner.run(["sh", "-c", script])
        return String(output.stdout.prefix(64))
    }

    struct Beds {
        let dns: [String: String]
        let dnsDirectory: String
        let smtpDirectory: String
    }

    /// The checker: the presented certificate must match a TLSA record that every name server serves.
    static func expectDANEVerifies(_ beds: Beds, smtpPort: String, at now: Date, _ step: String) throws {
        let servers = [beds.dns["DNS_PRIMARY"] ?? "", beds.dns["DNS_SECONDARY"] ?? ""]
        var common: Set<String>?
        for server in servers {
            let records = try served("_25._tcp.mail.example.com", at: server)
            common = common.map { $0.intersection(records) } ?? records
        }
        let records = (common ?? []).sorted()
        #expect(!records.isEmpty, "\(step): no TLSA record is served by every name server")
        var arguments = [
            "openssl", "s_client", "-brief", "-starttls", "smtp", "-connect", "127.0.0.1:\(smtpPort)",
            "-dane_tlsa_domain", "mail.example.com", "-verify_return_error",
            "-attime", String(Int(now.timeIntervalSince1970)),
        ]
        for record in records { arguments += ["-dane_tlsa_rrdata", record] }
        let check = try ScriptRunner.run(arguments)
        let output = check.stdout + check.stderr
        #expect(
            check.status == 0 && output.contains("Verification: OK"),
            "\(step): the presented certificate matches none of \(records): \(output)")
    }

    /// The example's `conf.d/ssl-mgr.conf` pointed at the `dns-testbed` in `dnsDirectory`: its primary (and
    /// both servers as the name servers to check), its refresh command and its TLSA include directory.
    static func pointExample(main: String, at dns: [String: String], dnsDirectory: String) throws {
        let (primaryHost, primaryPort) = ACMETestbed.split(dns["DNS_PRIMARY"] ?? "")
        let config = try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(
                of: "server = '127.0.0.1'\n    port = 53",
                with: """
                    server = '\(primaryHost)'
                        port = \(primaryPort)

                    [[dns_nameservers]]
                        domain = 'default'
                        servers = ['\(dns["DNS_PRIMARY"] ?? "")', '\(dns["DNS_SECONDARY"] ?? "")']
                    """
            )
            .replacingOccurrences(
                of: "restart_cmd = ''", with: "restart_cmd = '\(dns["DNS_REFRESH"] ?? "") --testbed \(dnsDirectory)'"
            )
            .replacingOccurrences(
                of: "tlsa_dirs = ['dns/include-tlsa']", with: "tlsa_dirs = ['\(dns["DNS_TLSA_DIR"] ?? "")']")
        try config.write(toFile: main, atomically: true, encoding: .utf8)
    }

    @Test func renewRollRenewRoll() throws {
        for tool in ["/usr/sbin/nsd", "/usr/bin/ldns-signzone", "/usr/bin/dig", "/usr/bin/openssl", "/usr/bin/python3"]
        {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw TestbedError("\(tool) is missing: run scripts/install-deps test")
            }
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("sslm-dane-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let dnsDirectory = work + "/dns"
        let smtpDirectory = work + "/smtp"
        defer {
            _ = try? ScriptRunner.run([Self.scripts + "/smtp-dane-testbed", "stop", smtpDirectory])
            _ = try? ScriptRunner.run([Self.scripts + "/dns-testbed", "release-secondary", dnsDirectory])
            _ = try? ScriptRunner.run([Self.scripts + "/dns-testbed", "stop", dnsDirectory])
            try? FileManager.default.removeItem(atPath: work)
        }
        let started = try ScriptRunner.run([
            Self.scripts + "/dns-testbed", "start", dnsDirectory, "--zones", "example.com",
        ])
        guard started.succeeded else { throw TestbedError("dns-testbed start: \(started.stderr)") }
        let dns = try ACMETestbed.readEnv(dnsDirectory + "/env")
        let beds = Beds(dns: dns, dnsDirectory: dnsDirectory, smtpDirectory: smtpDirectory)
        let primary = dns["DNS_PRIMARY"] ?? ""
        let secondary = dns["DNS_SECONDARY"] ?? ""

        // The example (local CAs, mail-ec/mail-rsa with DANE 25/tcp on the MX hosts), EC keys for speed,
        // pointed at the test bed's DNS. min_roll_mins stays 90; the records' TTL is 1800 s.
        let topdir = try ExampleTopdir.make("sslm-dane", keepPort25: true)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let main = topdir + "/conf.d/ssl-mgr.conf"
        try Self.pointExample(main: main, at: dns, dnsDirectory: dnsDirectory)
        var config = try String(contentsOfFile: main, encoding: .utf8)
        let t0 = Date()
        let minute: TimeInterval = 60
        let day: TimeInterval = 86_400
        func env(_ at: Date) -> [String: String] { ["SSLM_NOW": ISO8601DateFormatter().string(from: at)] }
        func apply(_ at: Date, _ step: String) throws -> SSLMProcess.Output {
            let run = try SSLMProcess.run(["apply", "--topdir", topdir], environment: env(at))
            #expect(run.status == 0, "\(step): \(run.stdout)\(run.stderr)")
            return run
        }
        func plan(_ at: Date) throws -> SSLMProcess.Output {
            try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir], environment: env(at))
        }
        func tlsaRows() -> [String] {
            ((try? String(contentsOfFile: topdir + "/certs/example.com/tlsa.example.com", encoding: .utf8)) ?? "")
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix(";") }
        }
        func waitForSecondary() throws {
            var rounds = 0
            while try Self.serial(at: secondary) != Self.serial(at: primary), rounds < 100 {
                usleep(100_000)
                rounds += 1
            }
            #expect(try Self.serial(at: secondary) == Self.serial(at: primary), "the secondary caught up")
        }

        // 1. Fresh install: the first certificates are curr at once and their records are published with them.
        _ = try apply(t0, "install")
        let currRows = tlsaRows()
        #expect(currRows.contains { $0.hasPrefix("_25._tcp.mail.example.com.") }, "MX owners: \(currRows)")
        try waitForSecondary()
        let prodCurr = topdir + "/prod-certs/example.com/mail-ec/curr"
        let smtp = try ScriptRunner.run([
            Self.scripts + "/smtp-dane-testbed", "start", smtpDirectory,
            "--cert", prodCurr + "/fullchain.pem", "--key", prodCurr + "/privkey.pem",
        ])
        guard smtp.succeeded else { throw TestbedError("smtp-dane-testbed start: \(smtp.stderr)") }
        let smtpPort = try ACMETestbed.readEnv(smtpDirectory + "/env")["SMTP_PORT"] ?? ""
        config = try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(
                of: "[smtp]\n    servers = []",
                with: """
                    [smtp]
                        servers = ['\(LocalHostName.current)']
                        restart_cmd = '\(Self.scripts)/smtp-dane-testbed reload \(smtpDirectory)'
                        svc_depends = [['example.com', ['mail-ec', 'mail-rsa']]]
                    """)
        try config.write(toFile: main, atomically: true, encoding: .utf8)
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: t0, "after install")
        let firstKey = try Self.presentedSPKI(port: smtpPort)
        #expect(try plan(t0 + minute).status == 0, "nothing to do after the install")

        // 2. Renew with the secondary held at its old serial: TLSA = curr + next on the primary only.
        try ScriptRunner.run([Self.scripts + "/dns-testbed", "hold-secondary", dnsDirectory]).expectSuccess("hold")
        let renew1 = t0 + 65 * day
        _ = try apply(renew1, "renew 1")
        #expect(tlsaRows().count == 2 * currRows.count, "curr and next records are published")
        #expect(try Self.serial(at: secondary) != Self.serial(at: primary), "the secondary is held")
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: renew1, "renew 1 (secondary held)")

        // 3. Long past min_roll_mins, but the secondary still serves the old serial: the roll waits, and says why.
        let held = try plan(renew1 + 200 * minute)
        #expect(!held.stdout.contains("example.com/mail-ec/roll"), "no roll while the secondary lags: \(held.stdout)")
        #expect(
            held.stdout.contains("waiting_for_tlsa") && held.stdout.contains("\(secondary) still serves serial"),
            "\(held.stdout)")
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: renew1 + 200 * minute, "while held")

        // 4. The secondary catches up: the records are first seen everywhere now; the roll waits 90 min from here.
        // `plan` sees it but records nothing (it writes nothing); the next apply (cron) records the time.
        try ScriptRunner.run([Self.scripts + "/dns-testbed", "release-secondary", dnsDirectory]).expectSuccess(
            "release")
        try waitForSecondary()
        let seen1 = renew1 + 210 * minute
        let logBefore = TLSAPublicationLogFile.read(topdir)
        _ = try plan(seen1 - minute)
        #expect(TLSAPublicationLogFile.read(topdir) == logBefore, "plan records no publication time")
        _ = try apply(seen1, "records seen by all")
        #expect(
            TLSAPublicationLogFile.read(topdir).contains(ISO8601DateFormatter().string(from: seen1)),
            "apply records the time: \(TLSAPublicationLogFile.read(topdir))")
        let counting = try plan(seen1)
        #expect(
            !counting.stdout.contains("example.com/mail-ec/roll")
                && counting.stdout.contains("served by all 2 name servers"),
            "\(counting.stdout)")
        let early = try plan(seen1 + 89 * minute)
        #expect(
            !early.stdout.contains("example.com/mail-ec/roll") && early.stdout.contains("waiting_for_tlsa"),
            "\(early.stdout)")
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: seen1 + 89 * minute, "before roll 1")

        // 5. Roll: the SMTP server reloads the new curr before DNS drops the old records; TLSA shrinks to curr.
        let roll1 = seen1 + 91 * minute
        _ = try apply(roll1, "roll 1")
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: roll1, "right after roll 1")
        let secondKey = try Self.presentedSPKI(port: smtpPort)
        #expect(secondKey != firstKey, "the SMTP server presents the new key")
        #expect(tlsaRows().count == currRows.count, "only curr records remain")
        #expect(tlsaRows().joined().contains(secondKey) && !tlsaRows().joined().contains(firstKey))
        try waitForSecondary()
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: roll1, "after roll 1")
        #expect(try plan(roll1 + minute).status == 0, "nothing to do after roll 1")

        // 6. The second cycle, without holding: renew, wait, roll.
        let renew2 = t0 + 130 * day
        _ = try apply(renew2, "renew 2")
        #expect(tlsaRows().count == 2 * currRows.count)
        try waitForSecondary()
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: renew2, "renew 2")
        _ = try apply(renew2 + minute, "records seen by all 2")
        let waiting = try plan(renew2 + 2 * minute)
        #expect(waiting.status == 0 && waiting.stdout.contains("waiting_to_roll"), "\(waiting.stdout)")
        let published = TLSAPublicationLogFile.read(topdir)
        #expect(
            published.contains(ISO8601DateFormatter().string(from: renew2 + minute)),
            "next's records are recorded as first seen at the apply after the renewal: \(published)")
        let roll2 = renew2 + 92 * minute
        _ = try apply(roll2, "roll 2")
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: roll2, "right after roll 2")
        let thirdKey = try Self.presentedSPKI(port: smtpPort)
        #expect(thirdKey != secondKey && tlsaRows().joined().contains(thirdKey))
        #expect(tlsaRows().count == currRows.count)
        try waitForSecondary()
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: roll2, "after roll 2")
        #expect(try plan(roll2 + minute).status == 0, "nothing to do after roll 2")
        let reloads = (try? String(contentsOfFile: smtpDirectory + "/reload.log", encoding: .utf8)) ?? ""
        #expect(reloads.split(separator: "\n").count == 2, "the SMTP server reloaded once per roll: \(reloads)")

        // 7. A blocked roll never lets curr expire: with the secondary held, the roll waits; after
        // dane_roll_stuck_hours (24 h) it is stuck (status exits 1, the metrics carry the waiting time);
        // within dane_roll_deadline_days (3 d) of curr's expiry it rolls anyway, with a warning.
        try ScriptRunner.run([Self.scripts + "/dns-testbed", "hold-secondary", dnsDirectory]).expectSuccess("hold 3")
        let renew3 = t0 + 195 * day
        _ = try apply(renew3, "renew 3")
        let stuckAt = renew3 + 26 * 60 * minute
        let stuckPlan = try plan(stuckAt)
        #expect(stuckPlan.stdout.contains("stuck:"), "\(stuckPlan.stdout)")
        #expect(stuckPlan.status == 2, "plan --detailed-exitcode: a stuck roll is work that does not progress")
        let metrics = topdir + "/metrics.prom"
        let status = try SSLMProcess.run(
            ["status", "--topdir", topdir, "--metrics-file", metrics], environment: env(stuckAt))
        #expect(status.status == 1, "status exits 1 while a roll is stuck: \(status.stdout)\(status.stderr)")
        let prom = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
        #expect(
            prom.contains("sslm_dane_roll_waiting_seconds{service=\"example.com/mail-ec\"}")
                && prom.contains("sslm_dane_roll_stuck{service=\"example.com/mail-ec\"} 1"), "\(prom)")
        let statusJSON = try SSLMProcess.run(["status", "--topdir", topdir, "--json"], environment: env(stuckAt))
        let object = try JSONSerialization.jsonObject(with: Data(statusJSON.stdout.utf8)) as? [String: Any]
        let mail = (object?["services"] as? [[String: Any]] ?? []).first {
            ($0["service"] as? String) == "example.com/mail-ec"
        }
        let curr = (mail?["slots"] as? [[String: Any]] ?? []).first { ($0["slot"] as? String) == "curr" }
        let notAfter = try #require((curr?["notAfter"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) })
        let beforeDeadline = try plan(notAfter - 4 * day)
        #expect(!beforeDeadline.stdout.contains("example.com/mail-ec/roll"), "\(beforeDeadline.stdout)")
        let deadline = notAfter - 2 * day
        let rolled = try apply(deadline, "deadline roll")
        #expect(
            rolled.stderr.contains("WARNING") && rolled.stderr.contains("dane_roll_deadline_days"), "\(rolled.stderr)")
        #expect(try Self.presentedSPKI(port: smtpPort) != thirdKey, "the SMTP server presents the new key")
        try ScriptRunner.run([Self.scripts + "/dns-testbed", "release-secondary", dnsDirectory]).expectSuccess(
            "release 3")
        try waitForSecondary()
        try Self.expectDANEVerifies(beds, smtpPort: smtpPort, at: deadline, "after the deadline roll")
        let after = try SSLMProcess.run(["status", "--topdir", topdir], environment: env(deadline + minute))
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }
}

extension DANERolloverTests {
    /// A section without `servers` (no restart after a roll): the old key's TLSA record stays published
    /// while the STARTTLS server still presents the old key (the plan names the endpoint), and is withdrawn
    /// by the first run after the server was reloaded by hand.
    @Test func withdrawalWaitsForTheServer() throws {
        let bed = try WithdrawalBed()
        defer { bed.stop() }
        let minute: TimeInterval = 60
        // [smtp] has no servers: no restart.
        let oldKey = try Self.presentedSPKI(port: bed.smtpPort)
        let rollAt = try bed.renewAndWait(at: bed.t0 + 65 * 86_400)
        #expect(bed.published().contains(oldKey), "curr and next records are published")
        let plan = try bed.run(["plan"], at: rollAt)
        #expect(plan.stdout.contains("example.com/mail-ec/roll"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("example.com/tlsa/publish"), "\(plan.stdout)")
        #expect(
            plan.stdout.contains("127.0.0.1:\(bed.smtpPort)") && plan.stdout.contains("still presents"),
            "\(plan.stdout)")
        _ = try bed.apply(rollAt, "roll without restart")
        #expect(try Self.presentedSPKI(port: bed.smtpPort) == oldKey, "nothing restarted the server")
        #expect(bed.published().contains(oldKey), "the old key's record stays published: \(bed.published())")
        try Self.expectDANEVerifies(bed.beds, smtpPort: bed.smtpPort, at: rollAt, "after the roll, old key served")
        let still = try bed.run(["plan"], at: rollAt + minute)
        #expect(still.stdout.contains("still presents prev's key"), "\(still.stdout)")
        // Reloaded by hand: the next run withdraws the old record.
        _ = try bed.reloadByHandThenWithdraw(at: rollAt + 2 * minute, oldKey: oldKey)
    }
}

/// `.sslm/tlsa-published.json` as text.
enum TLSAPublicationLogFile {
    static func read(_ topdir: String) -> String {
        (try? String(contentsOfFile: topdir + "/.sslm/tlsa-published.json", encoding: .utf8)) ?? ""
    }
}

extension ScriptRunner.Outcome {
    func expectSuccess(_ what: String) throws {
        guard succeeded else { throw TestbedError("\(what): \(stderr)\(stdout)") }
    }
}
