import Foundation
import SSLMTestSupport
import Testing

/// dns-01 and DANE through `[[dns_primary]] update = 'rfc2136'` and `'exec'`, end to end: the built `sslm`
/// against pebble, which resolves through the DNS server under test (Knot DNS: a signing primary and an
/// IXFR secondary; or BIND 9), no include files and no `restart_cmd`. UPDATE messages are counted from the
/// server's log (`knot-testbed updates`, `bind-testbed updates`).
@Suite(
    "DNS UPDATE and exec providers end to end", .serialized,
    .enabled(if: TestTier.full, "starts pebble and Knot DNS / BIND 9: not in make check"))
struct DNSUpdateEndToEndTests {
    static let scripts = SSLMProcess.repositoryRoot + "/scripts/testbed"
    static let provider = SSLMProcess.repositoryRoot + "/Tests/SSLMCLITests/Fixtures/nsupdate-provider"

    /// A Knot or BIND test bed with pebble resolving through its primary.
    final class Bed {
        let directory: String
        let server: String  // knot-testbed or bind-testbed
        let env: [String: String]
        let pebble: [String: String]
        let prefix: String

        /// With `resolver`, pebble asks an unbound (`resolver-testbed`, stub zones to the primary) that follows
        /// CNAMEs from one zone into another, as a CA's resolver does; else the primary itself.
        init(_ server: String, zones: [String] = ["example.com", "example.net"], resolver: Bool = false) throws {
            directory = ScratchTopdir.newPath("sslm-upd")
            try ScratchTopdir.makeDirectory(directory, parents: true)
            self.server = server
            prefix = ["knot-testbed": "KNOT", "bind-testbed": "BIND", "pdns-testbed": "PDNS"][server] ?? "BIND"
            let started = try ScriptRunner.run(
                [scripts + "/" + server, "start", directory + "/dns", "--zones", zones.joined(separator: ",")])
            guard started.status == 0 else { throw TestbedError("\(server): \(started.stderr)") }
            env = try ACMETestbed.readEnv(directory + "/dns/env")
            var pebbleDNS = env[prefix + "_PRIMARY"] ?? env[prefix + "_DNS"] ?? ""
            if resolver {
                let stubs = zones.flatMap { ["--forward-zone", "\($0)=\(pebbleDNS)"] }
                let unbound = try ScriptRunner.run(
                    [scripts + "/resolver-testbed", "start", directory + "/resolver"] + stubs)
                guard unbound.status == 0 else {
                    _ = try? ScriptRunner.run([scripts + "/" + server, "stop", directory + "/dns"])
                    throw TestbedError("resolver-testbed: \(unbound.stderr)")
                }
                pebbleDNS = try ACMETestbed.readEnv(directory + "/resolver/env")["RESOLVER"] ?? ""
            }
            let pebbleStart = try ScriptRunner.run(
                [scripts + "/pebble-testbed", "start", directory + "/pebble", "--dns", pebbleDNS])
            guard pebbleStart.status == 0 else {
                _ = try? ScriptRunner.run([scripts + "/resolver-testbed", "stop", directory + "/resolver"])
                _ = try? ScriptRunner.run([scripts + "/" + server, "stop", directory + "/dns"])
                throw TestbedError("pebble: \(pebbleStart.stderr)")
            }
            pebble = try ACMETestbed.readEnv(directory + "/pebble/env")
        }

        func stop() {
            _ = try? ScriptRunner.run([scripts + "/pebble-testbed", "stop", directory + "/pebble"])
            _ = try? ScriptRunner.run([scripts + "/resolver-testbed", "stop", directory + "/resolver"])
            _ = try? ScriptRunner.run([scripts + "/" + server, "stop", directory + "/dns"])
            try? FileManager.default.removeItem(atPath: directory)
        }

        var primary: String { env[prefix + "_PRIMARY"] ?? env[prefix + "_DNS"] ?? "" }
        var keyFile: String { env[prefix + "_KEY_FILE"] ?? "" }

        /// UPDATE messages the primary has processed so far.
        func updates() throws -> Int {
            let output = try ScriptRunner.run([scripts + "/" + server, "updates", directory + "/dns"])
            return Int(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }

        func control(_ command: String) throws {
            let output = try ScriptRunner.run([scripts + "/" + server, command, directory + "/dns"])
            guard output.status == 0 else { throw TestbedError("\(server) \(command): \(output.stderr)") }
        }

        /// The values `name` has for `type` at the primary (dig, pinned).
        func served(_ name: String, _ type: String, at address: String? = nil) throws -> [String] {
            let (host, port) = ACMETestbed.split(address ?? primary)
            let dig = try ScriptRunner.run(["dig", "+short", "+norecurse", "-p", String(port), "@" + host, name, type])
            return dig.stdout.split(separator: "\n").map(String.init)
        }

        /// A topdir: `count` services (`names` SANs each) spread over `apexes`, all dns-01 at pebble.
        func writeTopdir(
            _ topdir: String, apexes: [String], count: Int, names: Int = 3, update: String, dane: Bool = false,
            primaryServer: String? = nil, extraPrimaries: String = ""
        ) throws -> [(apex: String, name: String)] {
            let builder = ScratchTopdir(at: topdir)
            let (host, port) = ACMETestbed.split(primary)
            var services: [(apex: String, name: String)] = []
            for index in 0..<count { services.append((apexes[index % apexes.count], "s\(index)")) }
            let nameservers =
                server == "knot-testbed"
                ? "'\(primary)', '\(env["KNOT_SECONDARY"] ?? "")'" : "'\(primary)'"
            var main = """
                [globals]
                    prod_cert_dir = '\(topdir)/prod'
                    logdir = '\(topdir)/logs'
                    min_roll_mins = 0
                    dns_check_delay = 0
                    dns_xtra_ns = []

                """
            for apex in apexes {
                let list = services.filter { $0.apex == apex }.map { "'\($0.name)'" }.joined(separator: ", ")
                main += "[[groups]]\n    domain = '\(apex)'\n    services = [\(list)]\n    active = true\n\n"
            }
            main += """
                [[dns_primary]]
                    domain = 'default'
                    server = '\(primaryServer ?? host)'
                    port = \(port)
                \(update)

                [[dns_nameservers]]
                    domain = 'default'
                    servers = [\(nameservers)]

                \(extraPrimaries)
                """
            try builder.writeConf(["ssl-mgr.conf": main])
            let trust = pebble["PEBBLE_TRUST"] ?? ""
            try builder.writeConf([
                "ca-info.conf": """
                [pebble-dns]
                    ca_desc = 'pebble, dns-01'
                    ca_type = 'acme'
                    ca_validation = 'dns-01'
                    ca_directory_url = '\(pebble["PEBBLE_DIRECTORY"] ?? "")'
                    ca_trust_file = '\(trust)'

                """
            ])
            for (apex, name) in services {
                var sans = (0..<names).map { $0 == 0 ? "\(name).\(apex)" : "\(name)x\($0).\(apex)" }
                // s0 shares an owner with the records the test bed's zone has and sslm does not manage.
                if dane && name == "s0" && sans.count > 1 { sans[1] = "mail.\(apex)" }
                let daneLine = dane ? "[[25, 'tcp', 3, 1, 1, 'SANS']]\ndane_tls_ttl = 1" : "[]"
                try builder.writeConf([
                    "\(apex)/\(name)": """
                    name = '\(name)'
                    group = '\(apex)'
                    service = '\(name)'
                    signing_ca = 'pebble-dns'
                    dane_tls = \(daneLine)
                    [KeyOpts]
                        ktype = 'ec'
                        ec_algo = 'secp256r1'
                    [X509]
                        CN = '\(sans[0])'
                        O = 'sslm tests'
                        C = 'US'
                        email = 'hostmaster@\(apex)'
                        sans = [\(sans.map { "'\($0)'" }.joined(separator: ", "))]

                    """
                ])
            }
            return services
        }

        var rfc2136: String { "    update = 'rfc2136'\n    tsig_key_file = '\(keyFile)'" }

        /// `update = 'exec'` with the maintained example provider for PowerDNS's HTTP API
        /// (examples/dns-providers/pdns-api), configured by a NAME=VALUE file.
        func pdnsAPI() throws -> String {
            let settings = directory + "/pdns-api.conf"
            try "PDNS_API_URL=\(env["PDNS_API_URL"] ?? "")\nPDNS_API_KEY=\(env["PDNS_API_KEY"] ?? "")\n"
                .write(toFile: settings, atomically: true, encoding: .utf8)
            chmod(settings, 0o600)
            let script = SSLMProcess.repositoryRoot + "/examples/dns-providers/pdns-api"
            return "    update = 'exec'\n    update_cmd = ['\(script)', '\(settings)']"
        }

        func exec(log: String, fail: Bool = false) -> String {
            let (host, port) = ACMETestbed.split(primary)
            let argv =
                [provider, "--server", host, "--port", String(port), "--key", keyFile, "--log", log]
                + (fail ? ["--fail"] : [])
            return "    update = 'exec'\n    update_cmd = [\(argv.map { "'\($0)'" }.joined(separator: ", "))]"
        }
    }

    static func apply(_ topdir: String, _ extra: [String] = []) throws -> SSLMProcess.Output {
        try SSLMProcess.run(["apply", "--topdir", topdir, "--dns-timeout", "30"] + extra)
    }

    static func expectIssued(_ topdir: String, _ services: [(apex: String, name: String)]) {
        for (apex, name) in services {
            let cert = "\(topdir)/certs/\(apex)/\(name)/curr/cert.pem"
            #expect(FileManager.default.fileExists(atPath: cert), "\(apex)/\(name) has no curr certificate")
        }
    }

    // MARK: (a) 20 certificates, one UPDATE per zone each way

    @Test(arguments: ["knot-testbed", "bind-testbed"])
    func twentyCertificatesOneUpdatePerZone(server: String) throws {
        let bed = try Bed(server)
        defer { bed.stop() }
        let topdir = bed.directory + "/topdir"
        let services = try bed.writeTopdir(
            topdir, apexes: ["example.com", "example.net"], count: 20, update: bed.rfc2136)
        let check = try SSLMProcess.run(["config", "check", "--topdir", topdir])
        #expect(check.status == 0, "config check without acme_dir / restart_cmd: \(check.stdout)\(check.stderr)")
        let plan = try SSLMProcess.run(["plan", "--topdir", topdir, "--json"])
        #expect(plan.stdout.contains("method rfc2136"), "the plan names the method")
        #expect(!plan.stdout.contains("\"refresh_dns\""), "no refresh for rfc2136 zones")
        #expect(!plan.stdout.contains(bed.env[bed.prefix + "_KEY_NAME"].map { _ in "secret" } ?? "secret"))
        let before = try bed.updates()
        let run = try Self.apply(topdir)
        #expect(run.status == 0, "apply: \(run.stdout)\n\(run.stderr)")
        Self.expectIssued(topdir, services)
        // Two zones: one UPDATE each with the challenges, one each for the cleanup.
        let sent = try bed.updates() - before
        #expect(sent == 4, "UPDATE messages: \(sent)")
        #expect(try bed.served("_acme-challenge.s0.example.com", "TXT").isEmpty, "challenge records are gone")
        #expect(try bed.served("_acme-challenge.www.example.com", "TXT").count == 1, "unmanaged TXT survives")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/.sslm/dns/challenges.example.com.json"))
        let again = try SSLMProcess.run(["plan", "--topdir", topdir])
        #expect(again.status == 0 && !again.stdout.contains("publish_challenges"), "then nothing: \(again.stdout)")
    }

    // MARK: (c) errors, each resumable

    @Test func wrongSecretThenFixed() throws {
        let bed = try Bed("knot-testbed")
        defer { bed.stop() }
        let topdir = bed.directory + "/topdir"
        let good = try String(contentsOfFile: bed.keyFile, encoding: .utf8)
        let bad = bed.directory + "/bad.key"
        let name = bed.env["KNOT_KEY_NAME"] ?? ""
        try
            "key \"\(name)\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0LXRoYXQtaXMtd3JvbmctMDEyMzQ1Njc4OQ==\";\n};\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        chmod(bad, 0o600)
        let services = try bed.writeTopdir(
            topdir, apexes: ["example.com"], count: 1,
            update: "    update = 'rfc2136'\n    tsig_key_file = '\(bad)'")
        let failed = try Self.apply(topdir)
        #expect(failed.status == 1)
        let text = failed.stdout + failed.stderr
        #expect(text.contains("example.com") && text.contains(name) && text.contains(bed.primary), "\(text)")
        #expect(text.contains("NOTAUTH") && text.contains("another secret"), "\(text)")
        #expect(!text.contains("c2VjcmV0LXRoYXQtaXMtd3JvbmctMDEyMzQ1Njc4OQ=="), "never the secret")
        #expect(!FileManager.default.fileExists(atPath: "\(topdir)/certs/example.com/s0/curr"), "nothing rolled")
        try good.write(toFile: bad, atomically: true, encoding: .utf8)
        let fixed = try Self.apply(topdir)
        #expect(fixed.status == 0, "after fixing the key: \(fixed.stdout)\(fixed.stderr)")
        Self.expectIssued(topdir, services)
    }

    @Test func wrongKeyNameZoneNotServedServerDown() throws {
        let bed = try Bed("knot-testbed")
        defer { bed.stop() }
        // Wrong key name: BADKEY.
        let other = bed.directory + "/other.key"
        let secret = try String(contentsOfFile: bed.keyFile, encoding: .utf8)
        try secret.replacingOccurrences(of: "key \"\(bed.env["KNOT_KEY_NAME"] ?? "")\"", with: "key \"nobody\"")
            .write(toFile: other, atomically: true, encoding: .utf8)
        chmod(other, 0o600)
        let topdir = bed.directory + "/topdir"
        _ = try bed.writeTopdir(
            topdir, apexes: ["example.com"], count: 1,
            update: "    update = 'rfc2136'\n    tsig_key_file = '\(other)'")
        let badKey = try Self.apply(topdir)
        #expect(badKey.status == 1 && (badKey.stdout + badKey.stderr).contains("\"nobody\""), "\(badKey.stderr)")
        #expect((badKey.stdout + badKey.stderr).contains("BADKEY"), "\(badKey.stdout)\(badKey.stderr)")
        // Zone not served by the primary.
        let stranger = bed.directory + "/stranger"
        _ = try bed.writeTopdir(stranger, apexes: ["example.org"], count: 1, update: bed.rfc2136)
        let notServed = try Self.apply(stranger)
        let notServedText = notServed.stdout + notServed.stderr
        #expect(notServed.status == 1 && notServedText.contains("example.org"), "\(notServedText)")
        // Server down, then up: the same topdir resumes.
        let resumed = bed.directory + "/resumed"
        let services = try bed.writeTopdir(resumed, apexes: ["example.com"], count: 1, update: bed.rfc2136)
        try bed.control("stop-primary")
        let down = try Self.apply(resumed)
        let downText = down.stdout + down.stderr
        #expect(down.status == 1 && downText.contains(bed.primary) && downText.contains("example.com"), "\(downText)")
        try bed.control("start-primary")
        let up = try Self.apply(resumed)
        #expect(up.status == 0, "after the server is back: \(up.stdout)\(up.stderr)")
        Self.expectIssued(resumed, services)
    }

    // MARK: (d) exec provider: certificates, records gone, TLSA published and withdrawn

    @Test func execProviderIssuesAndPublishesTLSA() throws {
        let bed = try Bed("knot-testbed")
        defer { bed.stop() }
        let topdir = bed.directory + "/topdir"
        let log = bed.directory + "/provider.log"
        let services = try bed.writeTopdir(
            topdir, apexes: ["example.com", "example.net"], count: 4, update: bed.exec(log: log), dane: true)
        let run = try Self.apply(topdir)
        #expect(run.status == 0, "apply: \(run.stdout)\n\(run.stderr)")
        Self.expectIssued(topdir, services)
        var calls = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(calls.contains("present example.com. 6") && calls.contains("cleanup example.com. 6"), "\(calls)")
        #expect(calls.contains("tlsa-publish example.com."), "\(calls)")
        #expect(try bed.served("_acme-challenge.s0.example.com", "TXT").isEmpty)
        try Self.expectTLSACycle(bed, topdir: topdir)
        calls = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(calls.contains("tlsa-withdraw example.com."), "\(calls)")
    }

    /// The exec provider shipped in examples/ against a real HTTP DNS API: PowerDNS Authoritative.
    @Test func powerDNSThroughTheExampleProvider() throws {
        let bed = try Bed("pdns-testbed")
        defer { bed.stop() }
        let topdir = bed.directory + "/topdir"
        let services = try bed.writeTopdir(
            topdir, apexes: ["example.com", "example.net"], count: 2, update: try bed.pdnsAPI(), dane: true)
        let run = try Self.apply(topdir)
        #expect(run.status == 0, "apply: \(run.stdout)\n\(run.stderr)")
        Self.expectIssued(topdir, services)
        #expect(try bed.served("_acme-challenge.s0.example.com", "TXT").isEmpty, "challenge records gone")
        #expect(try bed.served("_acme-challenge.s1.example.net", "TXT").isEmpty, "challenge records gone")
        try Self.expectTLSACycle(bed, topdir: topdir)
    }

    /// s0.example.com's TLSA records through a renewal and a roll: curr's record, then curr's and next's,
    /// then only the new curr's; the record sslm does not manage at the shared owner
    /// `_25._tcp.mail.example.com` stays throughout.
    static func expectTLSACycle(_ bed: Bed, topdir: String) throws {
        let owner = "_25._tcp.s0.example.com"
        let first = try bed.served(owner, "TLSA")
        #expect(first.count == 1, "curr's TLSA record: \(first)")
        let unmanaged = (bed.env[bed.prefix + "_UNMANAGED_TLSA"] ?? "").lowercased()
            .replacingOccurrences(of: " ", with: "")
        func sharedOwner() throws -> [String] {
            try bed.served("_25._tcp.mail.example.com", "TLSA").map {
                $0.lowercased().replacingOccurrences(of: " ", with: "")
            }
        }
        let shared = try sharedOwner()
        #expect(shared.count == 2 && shared.contains(unmanaged), "\(shared)")
        // Renew (next's records added), then roll (curr's old records withdrawn).
        let renew = try apply(topdir, ["--force", "--phase", "renew"])
        #expect(renew.status == 0, "renew: \(renew.stdout)\(renew.stderr)")
        #expect(try bed.served(owner, "TLSA").count == 2, "curr and next")
        let roll = try apply(topdir, ["--force", "--phase", "roll"])
        #expect(roll.status == 0, "roll: \(roll.stdout)\(roll.stderr)")
        let after = try bed.served(owner, "TLSA")
        #expect(after.count == 1 && after != first, "the old key's record is withdrawn: \(after)")
        let sharedAfter = try sharedOwner()
        #expect(sharedAfter.count == 2 && sharedAfter.contains(unmanaged), "kept: \(sharedAfter)")
    }

    @Test func execProviderFailureIsAnErrorWithItsOutput() throws {
        let bed = try Bed("knot-testbed")
        defer { bed.stop() }
        let topdir = bed.directory + "/topdir"
        _ = try bed.writeTopdir(
            topdir, apexes: ["example.com"], count: 1, update: bed.exec(log: bed.directory + "/log", fail: true))
        let run = try Self.apply(topdir)
        let text = run.stdout + run.stderr
        #expect(
            run.status == 1 && text.contains("the API refused the change") && text.contains("example.com"), "\(text)")
    }

    // MARK: (e) CNAME delegation and a host-name primary

    @Test func cnameDelegationAndHostNamePrimary() throws {
        let bed = try Bed("knot-testbed", zones: ["example.com", "example.net", "acme-zone.net"], resolver: true)
        defer { bed.stop() }
        // _acme-challenge.s0.example.com → s0.acme-zone.net (and s0x1's): the test bed's key may change only
        // TXT and TLSA, so the CNAMEs go into the zone file, which Knot reloads.
        let zoneFile = bed.directory + "/dns/primary/zones/example.com.zone"
        var zone = try String(contentsOfFile: zoneFile, encoding: .utf8)
        zone += "_acme-challenge.s0 IN CNAME s0.acme-zone.net.\n_acme-challenge.s0x1 IN CNAME s0x1.acme-zone.net.\n"
        try zone.write(toFile: zoneFile, atomically: true, encoding: .utf8)
        let reload = try ScriptRunner.run(
            ["knotc", "-s", bed.directory + "/dns/primary/knot.sock", "zone-reload", "example.com"])
        #expect(reload.status == 0, "\(reload.stderr)")
        var delegated = false
        for _ in 0..<100 where !delegated {
            delegated = !(try bed.served("_acme-challenge.s0.example.com", "CNAME")).isEmpty
            if !delegated { usleep(50_000) }
        }
        #expect(delegated, "the CNAME is served")
        let topdir = bed.directory + "/topdir"
        let (_, port) = ACMETestbed.split(bed.primary)
        // The default primary by host name (ns1.example.com, resolved at the example.com primary).
        let services = try bed.writeTopdir(
            topdir, apexes: ["example.com"], count: 1, update: bed.rfc2136, primaryServer: "ns1.example.com",
            extraPrimaries: """
                [[dns_primary]]
                    domain = 'example.com'
                    server = '127.0.0.1'
                    port = \(port)
                \(bed.rfc2136)

                [[dns_primary]]
                    domain = 'acme-zone.net'
                    server = 'ns1.example.com'
                    port = \(port)
                \(bed.rfc2136)
                """)
        let before = try bed.updates()
        let run = try Self.apply(topdir)
        #expect(run.status == 0, "apply: \(run.stdout)\n\(run.stderr)")
        Self.expectIssued(topdir, services)
        // example.com (one name not delegated) and acme-zone.net: one UPDATE each, both ways.
        let sent = try bed.updates() - before
        #expect(sent == 4, "UPDATE messages: \(sent)")
        #expect(try bed.served("s0.acme-zone.net", "TXT").isEmpty, "the delegated record is deleted again")
    }

    // MARK: (b) DANE rollover through RFC 2136 only

    /// DANERolloverTests' lifecycle with Knot taking the TLSA records by UPDATE: no include files, no
    /// restart_cmd. At every step the STARTTLS server's certificate must match a record every name server
    /// serves (openssl's DANE check), and the record at the same owner that sslm does not manage survives.
    @Test func daneRolloverThroughRFC2136() throws {
        let work = ScratchTopdir.newPath("sslm-dane-upd")
        try ScratchTopdir.makeDirectory(work, parents: true)
        let dnsDirectory = work + "/dns"
        let smtpDirectory = work + "/smtp"
        defer {
            _ = try? ScriptRunner.run([Self.scripts + "/smtp-dane-testbed", "stop", smtpDirectory])
            _ = try? ScriptRunner.run([Self.scripts + "/knot-testbed", "stop", dnsDirectory])
            try? FileManager.default.removeItem(atPath: work)
        }
        let started = try ScriptRunner.run([
            Self.scripts + "/knot-testbed", "start", dnsDirectory, "--zones", "example.com",
        ])
        try started.expectSuccess("knot-testbed start")
        let knot = try ACMETestbed.readEnv(dnsDirectory + "/env")
        let primary = knot["KNOT_PRIMARY"] ?? ""
        let secondary = knot["KNOT_SECONDARY"] ?? ""
        // The example's DANE records go to the MX hosts: give the zone its MX (the key may change only TXT/TLSA).
        let zoneFile = dnsDirectory + "/primary/zones/example.com.zone"
        try (String(contentsOfFile: zoneFile, encoding: .utf8) + "@ IN MX 10 mail.example.com.\n").write(
            toFile: zoneFile, atomically: true, encoding: .utf8)
        try ScriptRunner.run(["knotc", "-s", dnsDirectory + "/primary/knot.sock", "zone-reload", "example.com"])
            .expectSuccess("knotc zone-reload")
        let beds = DANERolloverTests.Beds(
            dns: ["DNS_PRIMARY": primary, "DNS_SECONDARY": secondary], dnsDirectory: dnsDirectory,
            smtpDirectory: smtpDirectory)
        let (primaryHost, primaryPort) = ACMETestbed.split(primary)
        let topdir = try ExampleTopdir.make("sslm-dane-upd", keepPort25: true)
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let main = topdir + "/conf.d/ssl-mgr.conf"
        var config = try String(contentsOfFile: main, encoding: .utf8)
            .replacingOccurrences(
                of: "server = '127.0.0.1'\n    port = 53",
                with: """
                    server = '\(primaryHost)'
                        port = \(primaryPort)
                        update = 'rfc2136'
                        tsig_key_file = '\(knot["KNOT_KEY_FILE"] ?? "")'

                    [[dns_nameservers]]
                        domain = 'default'
                        servers = ['\(primary)', '\(secondary)']
                    """
            )
            .replacingOccurrences(of: "tlsa_dirs = ['dns/include-tlsa']", with: "tlsa_dirs = []")
            .replacingOccurrences(of: "acme_dir = 'dns/include-acme'", with: "acme_dir = ''")
        try config.write(toFile: main, atomically: true, encoding: .utf8)
        let unmanaged = (knot["KNOT_UNMANAGED_TLSA"] ?? "").lowercased()
        func expectUnmanagedSurvives(_ step: String) throws {
            for server in [primary, secondary] {
                var rows: Set<String> = []
                for _ in 0..<50 {
                    rows = try DANERolloverTests.served("_25._tcp.mail.example.com", at: server)
                    if rows.contains(unmanaged) { break }
                    usleep(100_000)
                }
                #expect(rows.contains(unmanaged), "\(step): \(server) lost the unmanaged record: \(rows)")
            }
        }
        func waitForSecondary() throws {
            var rounds = 0
            while try DANERolloverTests.serial(at: secondary) != DANERolloverTests.serial(at: primary), rounds < 100 {
                usleep(100_000)
                rounds += 1
            }
        }
        let t0 = Date()
        let minute: TimeInterval = 60
        let day: TimeInterval = 86_400
        func env(_ at: Date) -> [String: String] { ["SSLM_NOW": ISO8601DateFormatter().string(from: at)] }
        func apply(_ at: Date, _ step: String) throws {
            let run = try SSLMProcess.run(["apply", "--topdir", topdir], environment: env(at))
            #expect(run.status == 0, "\(step): \(run.stdout)\(run.stderr)")
            #expect(!run.stdout.contains("refresh_dns"), "\(step): no refresh for an rfc2136 zone")
        }
        func plan(_ at: Date) throws -> SSLMProcess.Output {
            try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir], environment: env(at))
        }

        // 1. Install: curr's records go out by UPDATE.
        try apply(t0, "install")
        try waitForSecondary()
        let prodCurr = topdir + "/prod-certs/example.com/mail-ec/curr"
        try ScriptRunner.run([
            Self.scripts + "/smtp-dane-testbed", "start", smtpDirectory,
            "--cert", prodCurr + "/fullchain.pem", "--key", prodCurr + "/privkey.pem",
        ]).expectSuccess("smtp-dane-testbed start")
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
        try DANERolloverTests.expectDANEVerifies(beds, smtpPort: smtpPort, at: t0, "after install")
        try expectUnmanagedSurvives("after install")
        let firstKey = try DANERolloverTests.presentedSPKI(port: smtpPort)
        #expect(try plan(t0 + minute).status == 0, "nothing to do after the install")

        // 2. Renew: next's records are added; the server keeps presenting curr.
        let renew = t0 + 65 * day
        try apply(renew, "renew")
        try waitForSecondary()
        try DANERolloverTests.expectDANEVerifies(beds, smtpPort: smtpPort, at: renew, "renew")
        try expectUnmanagedSurvives("renew")
        let both = try DANERolloverTests.served("_25._tcp.mail.example.com", at: primary)
        #expect(both.count == 5, "curr and next of mail-ec and mail-rsa, and the unmanaged record: \(both)")
        // 3. The apply that sees next's records everywhere records the time; the roll waits for min_roll_mins.
        try apply(renew + minute, "records seen")
        let early = try plan(renew + 60 * minute)
        #expect(!early.stdout.contains("example.com/mail-ec/roll"), "\(early.stdout)")
        try DANERolloverTests.expectDANEVerifies(beds, smtpPort: smtpPort, at: renew + 60 * minute, "waiting")

        // 4. Roll: the server reloads with the new key, then the old key's records are deleted by value.
        let roll = renew + 92 * minute
        try apply(roll, "roll")
        try waitForSecondary()
        try DANERolloverTests.expectDANEVerifies(beds, smtpPort: smtpPort, at: roll, "after the roll")
        try expectUnmanagedSurvives("after the roll")
        let secondKey = try DANERolloverTests.presentedSPKI(port: smtpPort)
        #expect(secondKey != firstKey, "the SMTP server presents the new key")
        let after = try DANERolloverTests.served("_25._tcp.mail.example.com", at: primary)
        #expect(after.count == 3 && !after.joined().contains(firstKey), "the old key's record is withdrawn: \(after)")
        #expect(try plan(roll + minute).status == 0, "nothing to do after the roll")
    }
}
