import Foundation
import SSLMTestSupport
import Testing

/// A topdir for the TLS endpoint checks of `sslm check`: the local CAs of conf.d.example and two services
/// of example.com installed by `sslm apply` —
///
/// - `mail` (SANs mail.example.com, smtp.example.com, *.mx.example.com, 127.0.0.1), whose
///   `check_endpoints` each test writes (`setEndpoints`);
/// - `web` (SANs example.com, www.example.com), a web service by `[web] svc_depends`, so its endpoints
///   default to its SANs on 443.
///
/// No DNS: every host name gets `--connect`. Servers are `scripts/testbed/smtp-testbed` on 127.0.0.1,
/// serving a service's production curr (or any certificate), with STARTTLS smtp or TLS from the first byte.
final class TLSCheckBed: @unchecked Sendable {
    let directory: String
    let topdir: String
    /// Server name → its `127.0.0.1:PORT`.
    private(set) var servers: [String: String] = [:]
    private var stopped = false

    init() throws {
        directory = ScratchTopdir.newPath("sslm-tls-check")
        topdir = directory + "/topdir"
        try ScratchTopdir.makeDirectory(topdir, parents: true)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw TestbedError("/usr/bin/openssl is missing: run scripts/install-deps test")
        }
        do {
            try writeTopdir()
            let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
            guard apply.status == 0 else {
                throw TestbedError("sslm apply failed (\(apply.status)): \(apply.stdout)\(apply.stderr)")
            }
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    func stop() {
        guard !stopped else { return }
        stopped = true
        for name in servers.keys { _ = try? ACMETestbed.script("smtp-testbed", ["stop", directory + "/" + name]) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The production curr of `service` (`cert.pem`, `privkey.pem`, `chain.pem`).
    func production(_ service: String) -> String { topdir + "/prod/example.com/\(service)/curr" }

    /// The local root: the trust anchor of both services, for `openssl s_client -CAfile`.
    var rootCertificate: String { topdir + "/certs/ca/my-root/curr/cert.pem" }

    /// Starts a server named `name` serving `service`'s production curr (or `files`: cert, key, chain?).
    @discardableResult
    func startServer(
        _ name: String, service: String = "mail", starttls: Bool, delay: Double = 0,
        files: (cert: String, key: String, chain: String?)? = nil
    ) throws -> String {
        let prod = production(service)
        let chosen = files ?? (prod + "/cert.pem", prod + "/privkey.pem", prod + "/chain.pem")
        var arguments = ["start", directory + "/" + name, "--cert", chosen.cert, "--key", chosen.key]
        if let chain = chosen.chain { arguments += ["--chain", chain] }
        if !starttls { arguments.append("--implicit-tls") }
        if delay > 0 { arguments += ["--delay", String(delay)] }
        let outcome = try ACMETestbed.script("smtp-testbed", arguments)
        guard outcome.succeeded else {
            throw TestbedError("smtp-testbed start \(name) failed: \(outcome.stderr)\(outcome.stdout)")
        }
        let address = try ACMETestbed.readEnv(directory + "/" + name + "/env")["SMTP_ADDRESS"] ?? ""
        servers[name] = address
        return address
    }

    func reloadServer(_ name: String) throws {
        let outcome = try ACMETestbed.script("smtp-testbed", ["reload", directory + "/" + name])
        guard outcome.succeeded else { throw TestbedError("smtp-testbed reload failed: \(outcome.stderr)") }
    }

    /// Writes `check_endpoints` of example.com/mail (nil: no key).
    func setEndpoints(_ entries: [String]?, service: String = "mail") throws {
        let path = topdir + "/conf.d/example.com/" + service
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.hasPrefix("check_endpoints") }
        if let entries, let index = lines.firstIndex(where: { $0.hasPrefix("signing_ca") }) {
            lines.insert("check_endpoints = [\(entries.map { "'\($0)'" }.joined(separator: ", "))]", at: index + 1)
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `sslm check --topdir T --connect HOST=ADDR …` plus `arguments`.
    func check(_ connect: [String: String], _ arguments: [String] = []) throws -> SSLMProcess.Output {
        try SSLMProcess.run(
            ["check", "--topdir", topdir] + connect.sorted { $0.key < $1.key }.flatMap { ["--connect", "\($0)=\($1)"] }
                + arguments)
    }

    /// `openssl s_client` as an independent verifier: exit 0 only when the served chain verifies to the
    /// local root for `host` (`-verify_return_error -verify_hostname`, or `-verify_ip` for an address).
    func opensslVerifies(_ address: String, host: String, starttls: Bool) throws -> Bool {
        var argv = [
            "/usr/bin/openssl", "s_client", "-connect", address, "-CAfile", rootCertificate, "-verify_return_error",
        ]
        if host.first?.isNumber == true {
            argv += ["-verify_ip", host]
        } else {
            argv += ["-servername", host, "-verify_hostname", host]
        }
        if starttls { argv += ["-starttls", "smtp"] }
        return try ScriptRunner.run(argv).status == 0
    }

    private func writeTopdir() throws {
        let builder = ScratchTopdir(at: topdir)
        try builder.mkdir("conf.d")
        let example = Repo.root.path + "/conf.d.example"
        try FileManager.default.copyItem(atPath: example + "/ca", toPath: builder.file("conf.d/ca"))
        try FileManager.default.copyItem(atPath: example + "/ca-info.conf", toPath: builder.file("conf.d/ca-info.conf"))
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
                services = ['mail', 'web']
                active = true
            [web]
                servers = []
                svc_depends = [['example.com', ['web']]]

            """
        func service(_ name: String, _ sans: [String]) -> String {
            """
            name = '\(name)'
            group = 'example.com'
            service = '\(name)'
            signing_ca = 'my-int'
            [KeyOpts]
                ktype = 'ec'
                ec_algo = 'secp256r1'
            [X509]
                CN = '\(sans[0])'
                O = 'sslm tests'
                C = 'US'
                sans = [\(sans.map { "'\($0)'" }.joined(separator: ", "))]

            """
        }
        try builder.writeConf([
            "ssl-mgr.conf": main,
            "example.com/mail": service(
                "mail", ["mail.example.com", "smtp.example.com", "*.mx.example.com", "127.0.0.1"]),
            "example.com/web": service("web", ["example.com", "www.example.com"]),
        ])
    }
}

/// `sslm check` on TLS endpoints (`check_endpoints`, and a web service's SANs on 443) against real servers
/// on loopback: curr served → OK; an old or foreign certificate → exit 1 naming the endpoint; unreachable
/// endpoints reported; STARTTLS; probes concurrent and bounded, reported in the configuration's order.
@Suite(
    "sslm check: TLS endpoints on loopback servers", .serialized,
    .enabled(if: TestTier.full, "starts TLS and SMTP servers: not in make check"))
struct CheckEndpointsTests {
    static func rfc3339(days: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date().addingTimeInterval(days * 86_400))
    }

    private func tlsEndpoints(_ text: String) throws -> [[String: Any]] {
        let report = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        return try #require(report["tlsEndpoints"] as? [[String: Any]])
    }

    @Test(
        "curr served everywhere (TLS, STARTTLS smtp by port and by =smtp, an IP endpoint, the web default) → OK, exit 0"
    )
    func healthy() throws {
        let bed = try TLSCheckBed()
        defer { bed.stop() }
        let smtp = try bed.startServer("smtp", starttls: true)
        let direct = try bed.startServer("direct", starttls: false)
        let web = try bed.startServer("web", service: "web", starttls: false)
        let (_, directPort) = ACMETestbed.split(direct)
        try bed.setEndpoints(["mail.example.com:25", "smtp.example.com:2525=smtp", "127.0.0.1:\(directPort)"])
        let connect = [
            "mail.example.com": smtp, "smtp.example.com": smtp, "example.com": web, "www.example.com": web,
        ]

        let result = try bed.check(connect)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let expected = [
            "example.com/mail",
            "  OK   mail.example.com:25 (STARTTLS smtp, \(smtp)): TLS: serves curr; verifies; expires ",
            "  OK   smtp.example.com:2525 (STARTTLS smtp, \(smtp)): TLS: serves curr; verifies; expires ",
            "  OK   127.0.0.1:\(directPort) (\(direct)): TLS: serves curr; verifies; expires ",
            "example.com/web",
            "  OK   example.com:443 (\(web)): TLS: serves curr; verifies; expires ",
            "  OK   www.example.com:443 (\(web)): TLS: serves curr; verifies; expires ",
            "check: OK (5 endpoints)",
        ]
        let shown = lines.filter { line in expected.contains { line.hasPrefix($0) } }
        #expect(shown.count == expected.count, "\(result.stdout)")
        for (line, prefix) in zip(shown, expected) {
            #expect(line.hasPrefix(prefix), "\(line) ≠ \(prefix)…")
        }
        #expect(result.stdout.contains(" d left)"))

        let endpoints = try tlsEndpoints(try bed.check(connect, ["--json"]).stdout)
        #expect(
            endpoints.map { "\($0["host"] ?? ""):\($0["port"] ?? "")" } == [
                "mail.example.com:25", "smtp.example.com:2525", "127.0.0.1:\(directPort)", "example.com:443",
                "www.example.com:443",
            ])
        for endpoint in endpoints {
            #expect(endpoint["status"] as? String == "ok")
            #expect(endpoint["verified"] as? Bool == true)
            #expect((endpoint["served"] as? [String: Any])?["slot"] as? String == "curr")
            let daysLeft = try #require(endpoint["daysLeft"] as? Double)
            #expect(daysLeft > 89 && daysLeft <= 90.1, "\(daysLeft)")
            #expect((endpoint["anchor"] as? String)?.contains("CN=Example Root CA") == true, "\(endpoint)")
        }
        #expect(endpoints[0]["startTLS"] as? String == "smtp" && endpoints[1]["startTLS"] as? String == "smtp")
        #expect(endpoints[2]["startTLS"] == nil || endpoints[2]["startTLS"] is NSNull)
        #expect(endpoints[0]["source"] as? String == "check_endpoints")
        #expect(
            endpoints[3]["source"] as? String
                == "web service ([web] svc_depends names it (example.com)): SANs on 443")

        // The independent verifier agrees: openssl verifies each served chain to the local root.
        #expect(try bed.opensslVerifies(smtp, host: "mail.example.com", starttls: true))
        #expect(try bed.opensslVerifies(direct, host: "127.0.0.1", starttls: false))
        #expect(try bed.opensslVerifies(web, host: "www.example.com", starttls: false))

        // Inside the renewal window (90-day certificates renew 30 d before expiry): warnings, exit 0.
        let due = try bed.check(connect, ["--now", Self.rfc3339(days: 70)])
        #expect(due.status == 0, "\(due.stdout)")
        #expect(
            due.stdout.contains(
                "warning: www.example.com port 443 serves a certificate within its renewal window: expires "),
            "\(due.stdout)")
        #expect(due.stdout.contains("check: OK with warnings (5 endpoints)"))
    }

    @Test("the server presents an old certificate → exit 1 naming the endpoint, not curr; OK after a reload")
    func oldCertificate() throws {
        let bed = try TLSCheckBed()
        defer { bed.stop() }
        let web = try bed.startServer("web", service: "web", starttls: false)
        try bed.setEndpoints([])
        let connect = ["example.com": web, "www.example.com": web]
        let before = try String(contentsOfFile: bed.production("web") + "/cert.pem", encoding: .utf8)
        for arguments in [["apply", "--force", "example.com:web"], ["apply", "--force", "--phase", "roll"]] {
            let apply = try SSLMProcess.run(arguments + ["--topdir", bed.topdir])
            #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
            if try String(contentsOfFile: bed.production("web") + "/cert.pem", encoding: .utf8) != before { break }
        }
        try #require(
            try String(contentsOfFile: bed.production("web") + "/cert.pem", encoding: .utf8) != before,
            "apply --force replaced curr")

        let result = try bed.check(connect)
        #expect(result.status == 1, "\(result.stdout)")
        #expect(
            result.stdout.contains("  FAIL www.example.com:443 (\(web)): TLS: serves neither curr nor next; verifies"))
        #expect(
            result.stdout.contains(
                "www.example.com port 443 (\(web)) serves a certificate that is not sslm's curr (serial "),
            "\(result.stdout)")
        #expect(result.stdout.contains("an old or foreign certificate"))
        #expect(result.stdout.contains("check: FAILED (2 of 2 endpoints)"))
        let endpoints = try tlsEndpoints(try bed.check(connect, ["--json"]).stdout)
        #expect(endpoints.map { ($0["served"] as? [String: Any])?["slot"] as? String } == ["other", "other"])
        #expect(endpoints.map { $0["verified"] as? Bool } == [true, true], "the old certificate still verifies")

        try bed.reloadServer("web")
        let reloaded = try bed.check(connect)
        #expect(reloaded.status == 0, "\(reloaded.stdout)")
        #expect(reloaded.stdout.contains("check: OK (2 endpoints)"))
    }

    @Test("a server that already presents sslm's next (before the roll) → exit 1: next, not curr")
    func servesNext() throws {
        let bed = try TLSCheckBed()
        defer { bed.stop() }
        // A renewal that waits 90 minutes in next before it is rolled.
        let main = bed.topdir + "/conf.d/ssl-mgr.conf"
        let text = try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(of: "min_roll_mins = 0", with: "min_roll_mins = 90")
        try text.write(toFile: main, atomically: true, encoding: .utf8)
        let apply = try SSLMProcess.run(["apply", "--force", "example.com:web", "--topdir", bed.topdir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        let next = bed.topdir + "/prod/example.com/web/next"
        try #require(FileManager.default.fileExists(atPath: next + "/cert.pem"), "\(apply.stdout)")
        let early = try bed.startServer(
            "early", starttls: false, files: (next + "/cert.pem", next + "/privkey.pem", next + "/chain.pem"))
        let current = try bed.startServer("current", service: "web", starttls: false)
        try bed.setEndpoints([])

        let result = try bed.check(["example.com": current, "www.example.com": early])
        #expect(result.status == 1)
        #expect(result.stdout.contains("  OK   example.com:443 (\(current)): TLS: serves curr; verifies"))
        #expect(
            result.stdout.contains("  FAIL www.example.com:443 (\(early)): TLS: serves next; verifies"),
            "\(result.stdout)")
        #expect(
            result.stdout.contains("www.example.com port 443 (\(early)) serves sslm's next, not curr (serial "))
        #expect(result.stdout.contains("check: FAILED (1 of 2 endpoints)"))
    }

    @Test("a foreign self-signed certificate → not curr and does not verify; openssl agrees")
    func foreignCertificate() throws {
        let bed = try TLSCheckBed()
        defer { bed.stop() }
        let key = bed.directory + "/foreign.key"
        let cert = bed.directory + "/foreign.pem"
        let made = try ScriptRunner.run([
            "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=www.example.com",
            "-addext", "subjectAltName=DNS:www.example.com,DNS:example.com",
        ])
        try #require(made.status == 0, "\(made.stderr)")
        let foreign = try bed.startServer("foreign", starttls: false, files: (cert, key, nil))
        try bed.setEndpoints([])

        let result = try bed.check(["example.com": foreign, "www.example.com": foreign])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "  FAIL www.example.com:443 (\(foreign)): TLS: serves neither curr nor next; "
                    + "does not verify; expires "), "\(result.stdout)")
        #expect(
            result.stdout.contains("www.example.com port 443 (\(foreign)) serves a certificate that is not sslm's curr")
        )
        #expect(
            result.stdout.contains(
                "www.example.com port 443 (\(foreign)): the served chain does not verify (trust anchor: "
                    + "CN=Example Root CA,O=Example Org,C=US, host www.example.com): no valid path from the served "
                    + "certificate to CN=Example Root CA,O=Example Org,C=US"),
            "\(result.stdout)")
        #expect(try !bed.opensslVerifies(foreign, host: "www.example.com", starttls: false), "openssl agrees")
    }

    @Test("unreachable endpoints are reported (refused, no address) beside the ones that answer")
    func unreachable() throws {
        let bed = try TLSCheckBed()
        defer { bed.stop() }
        let smtp = try bed.startServer("smtp", starttls: true)
        let refused = "127.0.0.1:\(LoopbackPorts.unusedTCP())"
        try bed.setEndpoints(["down.example.com:443", "nodns.example.com:443", "mail.example.com:25"])
        try bed.setEndpoints([], service: "web")

        let result = try bed.check(["down.example.com": refused, "mail.example.com": smtp], ["--timeout", "5"])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains("  FAIL down.example.com:443 (\(refused)): TLS: no served chain"), "\(result.stdout)"
        )
        #expect(result.stdout.contains("down.example.com port 443: no TLS handshake with \(refused)"))
        #expect(result.stdout.contains("  FAIL nodns.example.com:443: TLS: no served chain"))
        #expect(
            result.stdout.contains(
                "cannot look up nodns.example.com: no --resolver and no [[dns_primary]] for example.com to look its "
                    + "address up at (or give --connect nodns.example.com=ADDR:PORT)"), "\(result.stdout)")
        #expect(result.stdout.contains("  OK   mail.example.com:25 (STARTTLS smtp, \(smtp)): TLS: serves curr"))
        #expect(result.stdout.contains("check: FAILED (2 of 3 endpoints)"))

        // A STARTTLS endpoint that speaks TLS from the first byte (=smtp on a direct-TLS server) fails too.
        let direct = try bed.startServer("direct", starttls: false)
        try bed.setEndpoints(["mail.example.com:465=smtp"])
        let wrong = try bed.check(["mail.example.com": direct], ["--timeout", "2"])
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("  FAIL mail.example.com:465 (STARTTLS smtp, \(direct)): TLS: no served chain"))
    }

    @Test("concurrent and bounded: slow endpoints overlap, --parallel bounds them, the order is the config's")
    func concurrency() throws {
        let bed = try TLSCheckBed()
        defer { bed.stop() }
        // Greeting delays 6, 5, 4 and 3 s: they finish in the reverse of the configuration's order. The delays
        // are long so that the bounds below hold with seconds to spare on a loaded CI machine.
        var connect: [String: String] = [:]
        var entries: [String] = []
        for (index, delay) in [6.0, 5.0, 4.0, 3.0].enumerated() {
            let host = "s\(index + 1).mx.example.com"
            connect[host] = try bed.startServer("slow\(index + 1)", starttls: true, delay: delay)
            entries.append(host + ":25")
        }
        let web = try bed.startServer("web", service: "web", starttls: false)
        connect["example.com"] = web
        connect["www.example.com"] = web
        try bed.setEndpoints(entries)
        let order = entries + ["example.com:443", "www.example.com:443"]

        let start = Date()
        let concurrent = try bed.check(connect, ["--json"])
        let concurrentSeconds = Date().timeIntervalSince(start)
        #expect(concurrent.status == 0, "\(concurrent.stdout)\(concurrent.stderr)")
        let first = try tlsEndpoints(concurrent.stdout)
        #expect(first.map { "\($0["host"] ?? ""):\($0["port"] ?? "")" } == order)
        #expect(first.allSatisfy { $0["status"] as? String == "ok" })
        // One after another it cannot take less than 18 s; concurrently about 6 s (the slowest).
        #expect(concurrentSeconds < 16, "took \(concurrentSeconds) s")

        // --parallel 2: two at a time (6 and 5 s, then 4 s from 5 s and 3 s from 6 s): at least 9 s.
        let start2 = Date()
        let bounded = try bed.check(connect, ["--json", "--parallel", "2"])
        let boundedSeconds = Date().timeIntervalSince(start2)
        #expect(bounded.status == 0, "\(bounded.stdout)")
        #expect(try tlsEndpoints(bounded.stdout).map { "\($0["host"] ?? ""):\($0["port"] ?? "")" } == order)
        #expect(boundedSeconds >= 9, "took \(boundedSeconds) s")

        let text = try bed.check(connect)
        let hosts = text.stdout.split(separator: "\n").filter { $0.hasPrefix("  OK ") }.map {
            String($0.dropFirst(7).prefix { $0 != " " })
        }
        #expect(hosts == order, "\(text.stdout)")
    }
}

/// `check_endpoints` errors stop `sslm config check` and `sslm check` with file, key, expected and found.
@Suite("sslm check: check_endpoints configuration errors")
struct CheckEndpointsConfigCLITests {
    @Test("a bad entry: config check exits 1 naming file, key, expected and found; check refuses to run")
    func badEntry() throws {
        let topdir = try ScratchTopdir()
        try topdir.copyExample()
        let path = topdir.file("conf.d/example.com/web-ec")
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(
                of: "dane_tls = []", with: "dane_tls = []\ncheck_endpoints = ['www.example.com:443', 'example.com']")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let message =
            "error: conf.d/example.com/web-ec: check_endpoints: item 2: no port: expected 'HOST:PORT' or "
            + "'HOST:PORT=PROTOCOL' (e.g. 'www.example.com:443', 'mail.example.com:143=imap'), found 'example.com'"
        let configCheck = try SSLMProcess.run(["config", "check", "--topdir", topdir.path])
        #expect(configCheck.status == 1)
        #expect(
            (configCheck.stdout + configCheck.stderr).contains(message), "\(configCheck.stdout)\(configCheck.stderr)")
        let check = try SSLMProcess.run(["check", "--topdir", topdir.path])
        #expect(check.status == 1)
        #expect(check.stderr.contains(message), "\(check.stdout)\(check.stderr)")

        let parallel = try SSLMProcess.run(["check", "--parallel", "0", "--topdir", topdir.path])
        #expect(parallel.status == 64)
        #expect(parallel.stderr.contains("--parallel: expected 1–256, found 0"), "\(parallel.stderr)")
    }
}
