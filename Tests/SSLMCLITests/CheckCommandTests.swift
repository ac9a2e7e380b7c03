import Foundation
import SSLMTestSupport
import Testing

/// A real DANE setup for `sslm check`: the signed nsd test bed (dns-testbed), a validating unbound with the
/// zone's KSK as trust anchor (resolver-testbed), a topdir with one local-CA mail service
/// (`dane_tls = [[25, 'tcp', 3, 1, 1]]`: owners example.com and its MX hosts mail, smtp, mx2) installed
/// by `sslm apply` (which writes the TLSA file into the test bed and refreshes the zone), and a STARTTLS
/// SMTP server (smtp-testbed) serving the production curr files. Everything on 127.0.0.1.
final class DANECheckBed: @unchecked Sendable {
    static let hosts = ["example.com", "mail.example.com", "smtp.example.com", "mx2.example.com"]

    let directory: String
    let topdir: String
    let dns: [String: String]
    private(set) var resolver = ""
    private(set) var smtp: String = ""
    private var stopped = false

    /// `trustAnchor: false` starts unbound without the zone's KSK: its answers are insecure (no AD).
    init(trustAnchor: Bool = true) throws {
        directory = ScratchTopdir.newPath("sslm-check")
        topdir = directory + "/topdir"
        try ScratchTopdir.makeDirectory(topdir, parents: true)
        for tool in ["/usr/sbin/nsd", "/usr/sbin/unbound", "/usr/bin/ldns-signzone", "/usr/bin/openssl"] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw TestbedError(
                    "\(tool) is missing: run scripts/install-deps test (packages nsd ldnsutils unbound openssl)")
            }
        }
        dns = try Self.start(
            "dns-testbed", ["start", directory + "/dns", "--zones", "example.com"],
            env: directory + "/dns/env")
        do {
            let primary = dns["DNS_PRIMARY"] ?? ""
            var arguments = ["start", directory + "/resolver", "--forward-zone", "example.com=\(primary)"]
            if trustAnchor { arguments += ["--trust-anchor", dns["DNS_KSK_example_com"] ?? ""] }
            resolver = try Self.start("resolver-testbed", arguments, env: directory + "/resolver/env")["RESOLVER"] ?? ""
            try writeTopdir()
            let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
            guard apply.status == 0 else {
                throw TestbedError("sslm apply failed (\(apply.status)): \(apply.stdout)\(apply.stderr)")
            }
            let prod = topdir + "/prod/example.com/mail/curr"
            smtp =
                try Self.start(
                    "smtp-testbed",
                    [
                        "start", directory + "/smtp", "--cert", prod + "/cert.pem", "--key", prod + "/privkey.pem",
                        "--chain", prod + "/chain.pem",
                    ], env: directory + "/smtp/env")["SMTP_ADDRESS"] ?? ""
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    func stop() {
        guard !stopped else { return }
        stopped = true
        _ = try? ACMETestbed.script("smtp-testbed", ["stop", directory + "/smtp"])
        _ = try? ACMETestbed.script("resolver-testbed", ["stop", directory + "/resolver"])
        _ = try? ACMETestbed.script("dns-testbed", ["stop", directory + "/dns"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `sslm check --topdir T --connect H=SMTP …` plus `arguments`.
    func check(_ arguments: [String]) throws -> SSLMProcess.Output {
        try SSLMProcess.run(
            ["check", "--topdir", topdir] + Self.hosts.flatMap { ["--connect", "\($0)=\(smtp)"] }
                + arguments)
    }

    /// The TLSA include file the zone reads, and a refresh (sign, reload, served).
    var tlsaFile: String { (dns["DNS_TLSA_DIR"] ?? "") + "/tlsa.example.com" }

    func refreshZone() throws {
        let outcome = try ScriptRunner.run(
            [dns["DNS_REFRESH"] ?? "", "--testbed", directory + "/dns", "--serial_bump", "example.com"])
        guard outcome.succeeded else { throw TestbedError("dns-refresh failed: \(outcome.stderr)") }
    }

    func reloadSMTP() throws {
        let outcome = try ACMETestbed.script("smtp-testbed", ["reload", directory + "/smtp"])
        guard outcome.succeeded else { throw TestbedError("smtp-testbed reload failed: \(outcome.stderr)") }
    }

    private func writeTopdir() throws {
        let builder = ScratchTopdir(at: topdir)
        try builder.mkdir("conf.d")
        let example = Repo.root.path + "/conf.d.example"
        try FileManager.default.copyItem(atPath: example + "/ca", toPath: builder.file("conf.d/ca"))
        try FileManager.default.copyItem(atPath: example + "/ca-info.conf", toPath: builder.file("conf.d/ca-info.conf"))
        let (host, port) = ACMETestbed.split(dns["DNS_PRIMARY"] ?? "")
        let main = """
            [globals]
                prod_cert_dir = '\(topdir)/prod'
                logdir = '\(topdir)/logs'
                min_roll_mins = 0
                dns_xtra_ns = []
            [[groups]]
                domain = 'ca'
                services = ['my-root', 'my-int']
                active = true
            [[groups]]
                domain = 'example.com'
                services = ['mail']
                active = true
            [[dns_primary]]
                domain = 'default'
                server = '\(host)'
                port = \(port)
            [dns]
                restart_cmd = ['\(dns["DNS_REFRESH"] ?? "") --testbed \(directory)/dns']
                acme_dir = '\(dns["DNS_ACME_DIR"] ?? "")'
                tlsa_dirs = ['\(dns["DNS_TLSA_DIR"] ?? "")']
                depends = ['dns']

            """
        let service = """
            name = 'mail'
            group = 'example.com'
            service = 'mail'
            signing_ca = 'my-int'
            dane_tls = [[25, 'tcp', 3, 1, 1]]
            dane_tls_ttl = 0
            [KeyOpts]
                ktype = 'ec'
                ec_algo = 'secp256r1'
            [X509]
                CN = 'mail.example.com'
                O = 'sslm tests'
                C = 'US'
                sans = ['mail.example.com', 'smtp.example.com', 'mx2.example.com']

            """
        try builder.writeConf(["ssl-mgr.conf": main, "example.com/mail": service])
    }

    private static func start(_ script: String, _ arguments: [String], env: String) throws -> [String: String] {
        let outcome = try ACMETestbed.script(script, arguments)
        guard outcome.succeeded else {
            throw TestbedError(
                "\(script) \(arguments.first ?? "") failed (\(outcome.status)): \(outcome.stderr)\(outcome.stdout)")
        }
        return try ACMETestbed.readEnv(env)
    }
}

/// The acceptance of `sslm check` on real daemons: OK on the healthy setup; a precise failure for a wrong
/// TLSA record, for a server presenting an old certificate, and for answers that are not DNSSEC-validated.
@Suite(
    "sslm check against a real DNS, resolver and STARTTLS server", .serialized,
    .enabled(if: TestTier.full, "starts nsd, unbound and an SMTP server: not in make check"))
struct CheckCommandTests {
    /// Now plus `days`, RFC 3339 (the bed's certificates are issued now, valid 90 days).
    static func rfc3339(days: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date().addingTimeInterval(days * 86_400))
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("healthy: every owner's TLSA matches the served curr, DNSSEC-validated → OK, exit 0")
    func healthy() throws {
        let bed = try DANECheckBed()
        defer { bed.stop() }
        let result = try bed.check(["--resolver", bed.resolver])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("check: OK (4 endpoints)"), "\(result.stdout)")
        for host in DANECheckBed.hosts {
            #expect(
                result.stdout.contains("OK   \(host):25 (STARTTLS smtp, \(bed.smtp)): matches TLSA 3 1 1 "),
                "\(result.stdout)")
        }
        #expect(result.stdout.contains("serves curr; DNSSEC-validated"))

        // The production curr inside its renewal window (90-day certificate, 30 d before expiry) without a
        // next: a warning, exit 0; expired: a failure.
        let due = try bed.check(["--resolver", bed.resolver, "--now", Self.rfc3339(days: 70)])
        #expect(due.status == 0, "\(due.stdout)")
        #expect(
            due.stdout.contains(
                "WARN example.com/mail: production curr (\(bed.topdir)/prod/example.com/mail/curr/cert.pem) "
                    + "is within its renewal window and there is no next: expires "), "\(due.stdout)")
        #expect(due.stdout.contains("check: OK with warnings (4 endpoints)"))
        let expired = try bed.check(["--resolver", bed.resolver, "--now", Self.rfc3339(days: 91)])
        #expect(expired.status == 1)
        #expect(expired.stdout.contains("FAIL example.com/mail: production curr"), "\(expired.stdout)")
        #expect(expired.stdout.contains(" expired on "))
        #expect(expired.stdout.contains("check: FAILED (1 service finding)"))

        let report = try json(try bed.check(["--resolver", bed.resolver, "--json"]).stdout)
        #expect(report["status"] as? String == "ok")
        #expect(report["validating"] as? Bool == true)
        let endpoints = try #require(report["endpoints"] as? [[String: Any]])
        #expect(endpoints.count == 4)
        for endpoint in endpoints {
            #expect(endpoint["validated"] as? Bool == true)
            #expect((endpoint["matching"] as? [String])?.count == 1)
            #expect((endpoint["served"] as? [String: Any])?["slot"] as? String == "curr")
        }
    }

    @Test("a wrong TLSA record for one host → exit 1 naming the host, the port and the record")
    func wrongRecord() throws {
        let bed = try DANECheckBed()
        defer { bed.stop() }
        let wrong = String(repeating: "ab", count: 32)
        let published = try String(contentsOfFile: bed.tlsaFile, encoding: .utf8)
        let lines = published.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("_25._tcp.mail.example.com.") else { return String(line) }
            return "_25._tcp.mail.example.com.  IN TLSA 3 1 1 \(wrong)"
        }
        #expect(lines.contains("_25._tcp.mail.example.com.  IN TLSA 3 1 1 \(wrong)"), "\(published)")
        try lines.joined(separator: "\n").write(toFile: bed.tlsaFile, atomically: true, encoding: .utf8)
        try bed.refreshZone()

        let result = try bed.check(["--resolver", bed.resolver])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "mail.example.com port 25: the served chain matches no published TLSA record: "
                    + "_25._tcp.mail.example.com TLSA 3 1 1 \(wrong) does not match (the served leaf has 3 1 1 "),
            "\(result.stdout)")
        #expect(result.stdout.contains("FAIL mail.example.com:25"))
        for host in ["example.com", "smtp.example.com", "mx2.example.com"] {
            #expect(result.stdout.contains("OK   \(host):25"), "\(host) still matches: \(result.stdout)")
        }
        #expect(result.stdout.contains("check: FAILED (1 of 4 endpoints)"))
    }

    @Test("a DANE-TA record (2 1 1) of the issuing CA matches an issuer of the served chain, not the leaf")
    func trustAnchorRecord() throws {
        let bed = try DANECheckBed()
        defer { bed.stop() }
        let hash = try SSLMProcess.run(["tlsa-hash", bed.topdir + "/certs/ca/my-int/curr"])
        let data = try #require(
            hash.stdout.split(separator: "\n").first { $0.hasPrefix("tlsa hash: ") }?
                .dropFirst("tlsa hash: ".count))
        let published = try String(contentsOfFile: bed.tlsaFile, encoding: .utf8)
        let text = published.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasPrefix("_25._tcp.mail.example.com.")
                ? "_25._tcp.mail.example.com.  IN TLSA 2 1 1 \(data)" : String(line)
        }.joined(separator: "\n")
        try text.write(toFile: bed.tlsaFile, atomically: true, encoding: .utf8)
        try bed.refreshZone()

        let result = try bed.check(["--resolver", bed.resolver])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(
            result.stdout.contains("OK   mail.example.com:25 (STARTTLS smtp, \(bed.smtp)): matches TLSA 2 1 1 "),
            "\(result.stdout)")
        #expect(result.stdout.contains("check: OK (4 endpoints)"))
    }

    @Test("the server presents an old certificate → exit 1 saying it is not curr; OK again after a reload")
    func oldCertificate() throws {
        let bed = try DANECheckBed()
        defer { bed.stop() }
        // A new key and certificate: sslm renews (the DANE roll then waits for its records), the operator
        // forces the roll, sslm publishes the TLSA; the server is not reloaded.
        let before = try String(contentsOfFile: bed.topdir + "/prod/example.com/mail/curr/cert.pem", encoding: .utf8)
        for arguments in [["apply", "--force"], ["apply", "--force", "--phase", "roll"]] {
            let apply = try SSLMProcess.run(arguments + ["--topdir", bed.topdir])
            #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
            if try String(contentsOfFile: bed.topdir + "/prod/example.com/mail/curr/cert.pem", encoding: .utf8)
                != before
            {
                break
            }
        }
        let after = try String(contentsOfFile: bed.topdir + "/prod/example.com/mail/curr/cert.pem", encoding: .utf8)
        try #require(after != before, "apply --force replaced curr")

        let result = try bed.check(["--resolver", bed.resolver])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "mail.example.com port 25 (\(bed.smtp)) serves a certificate that is not sslm's curr"),
            "\(result.stdout)")
        #expect(result.stdout.contains("an old or foreign certificate"))
        #expect(result.stdout.contains("check: FAILED (4 of 4 endpoints)"))

        try bed.reloadSMTP()
        let reloaded = try bed.check(["--resolver", bed.resolver])
        #expect(reloaded.status == 0, "\(reloaded.stdout)")
        #expect(reloaded.stdout.contains("check: OK (4 endpoints)"))
    }

    @Test("answers not DNSSEC-validated: without --resolver a failure (a warning with --allow-unvalidated)")
    func notValidatedWithoutResolver() throws {
        let bed = try DANECheckBed()
        defer { bed.stop() }
        let result = try bed.check([])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "the TLSA answer for _25._tcp.mail.example.com is not DNSSEC-validated: no --resolver was given"),
            "\(result.stdout)")
        #expect(
            result.stdout.contains("DNS: [[dns_primary]] servers (no --resolver: answers are not DNSSEC-validated)"))
        #expect(result.stdout.contains("check: FAILED (4 of 4 endpoints)"))

        let allowed = try bed.check(["--allow-unvalidated"])
        #expect(allowed.status == 0, "\(allowed.stdout)")
        #expect(allowed.stdout.contains("WARN mail.example.com:25"))
        #expect(
            allowed.stdout.contains("warning: the TLSA answer for _25._tcp.mail.example.com is not DNSSEC-validated"))
        #expect(allowed.stdout.contains("check: OK with warnings (4 endpoints)"))
    }

    @Test("a host-name [[dns_primary]] is resolved at the configured servers, not refused")
    func hostNamePrimary() throws {
        let bed = try DANECheckBed()
        defer { bed.stop() }
        let (host, port) = ACMETestbed.split(bed.dns["DNS_PRIMARY"] ?? "")
        let path = bed.topdir + "/conf.d/ssl-mgr.conf"
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(
                of: "    server = '\(host)'\n    port = \(port)",
                with: "    server = 'ns1.example.com'\n    port = \(port)\n[[dns_primary]]\n"
                    + "    domain = 'example.com'\n    server = 'ns1.example.com'\n    port = \(port)"
            )
            .replacingOccurrences(of: "dns_xtra_ns = []", with: "dns_xtra_ns = ['\(host):\(port)']")
        #expect(text.contains("domain = 'default'\n    server = 'ns1.example.com'"), "the primary is a host name")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try bed.check(["--allow-unvalidated"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("is a host name"), "\(result.stdout)")
        #expect(result.stdout.contains("check: OK with warnings (4 endpoints)"), "\(result.stdout)")
    }

    @Test("a resolver that does not validate the zone (no trust anchor: no AD flag) → exit 1 saying so")
    func resolverWithoutTrustAnchor() throws {
        let bed = try DANECheckBed(trustAnchor: false)
        defer { bed.stop() }
        let result = try bed.check(["--resolver", bed.resolver])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "the TLSA answer for _25._tcp.smtp.example.com is not DNSSEC-validated: the resolver \(bed.resolver) "
                    + "did not set the AD flag"), "\(result.stdout)")
        // The records themselves still match the served curr.
        #expect(result.stdout.contains("matches TLSA 3 1 1 "))
        #expect(result.stdout.contains("serves curr; not validated"))
    }

    @Test("--connect and --starttls are checked before anything runs")
    func badOptions() throws {
        for arguments in [
            ["--connect", "mail.example.com"], ["--connect", "mail.example.com=127.0.0.1"],
            ["--starttls", "25=gopher"], ["--resolver", "not an address"],
        ] {
            let result = try SSLMProcess.run(["check"] + arguments + ["--topdir", "/nonexistent"])
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
        }
    }
}
