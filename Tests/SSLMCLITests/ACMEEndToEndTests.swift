import Foundation
import SSLMTestSupport
import Testing

/// `sslm apply` against the real test bed (pebble + nsd primary/secondary + nginx, `ACMETestbed`):
/// http-01 and dns-01 issuing, verified with the openssl CLI against pebble's own root and intermediate,
/// and the faults the ACME issue names.
@Suite(.serialized, .enabled(if: TestTier.full, "starts pebble, nsd and nginx: not in make check"))
struct ACMEEndToEndTests {
    static let services: [ACMETestbed.Service] = [
        .init(
            apex: "example.com", name: "web-ec", ca: "pebble-http", sans: ["example.com", "www.example.com"], key: "ec"),
        .init(
            apex: "example.com", name: "mail-rsa", ca: "pebble-dns",
            sans: ["mail.example.com", "smtp.example.com"], key: "rsa", dane: true),
        .init(apex: "example.com", name: "wild", ca: "pebble-dns", sans: ["example.com", "*.example.com"], key: "ec"),
        .init(
            apex: "example.net", name: "web-ec", ca: "pebble-http", sans: ["example.net", "www.example.net"], key: "ec"),
        .init(
            apex: "example.net", name: "mail-ec", ca: "pebble-dns", sans: ["mail.example.net"], key: "ec", dane: true),
    ]

    static func makeTopdir(_ testbed: ACMETestbed, services: [ACMETestbed.Service] = services) throws -> String {
        let topdir = testbed.directory + "/topdir-\(UUID().uuidString.prefix(8))"
        try testbed.writeTopdir(topdir, services: services)
        return topdir
    }

    static func apply(_ topdir: String, _ extra: [String] = [], environment: [String: String] = [:]) throws
        -> SSLMProcess.Output
    {
        try SSLMProcess.run(["apply", "--topdir", topdir, "--dns-timeout", "20"] + extra, environment: environment)
    }

    /// `openssl verify` of `certs/<apex>/<svc>/curr/cert.pem` with pebble's root as the only trust anchor.
    static func expectVerifies(
        _ topdir: String, _ service: ACMETestbed.Service, issuers: (root: String, intermediate: String)
    )
        throws
    {
        let curr = "\(topdir)/certs/\(service.apex)/\(service.name)/curr"
        let verify = try SSLMProcess.run(
            [
                "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", issuers.root, "-untrusted",
                curr + "/chain.pem",
                curr + "/cert.pem",
            ], executable: "/usr/bin/openssl")
        #expect(verify.status == 0, "openssl verify \(service.apex)/\(service.name): \(verify.stdout)\(verify.stderr)")
        let text = try SSLMProcess.run(
            ["x509", "-noout", "-ext", "subjectAltName", "-in", curr + "/cert.pem"],
            executable: "/usr/bin/openssl")
        for san in service.sans { #expect(text.stdout.contains("DNS:" + san), "\(service.name) lacks \(san)") }
        // The key of curr is the certificate's.
        let keyPub = try SSLMProcess.run(
            ["pkey", "-in", curr + "/privkey.pem", "-pubout"], executable: "/usr/bin/openssl")
        let certPub = try SSLMProcess.run(
            ["x509", "-noout", "-pubkey", "-in", curr + "/cert.pem"], executable: "/usr/bin/openssl")
        #expect(!keyPub.stdout.isEmpty && keyPub.stdout == certPub.stdout)
    }

    @Test func issuesEveryCertificateThenPlansNothing() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let topdir = try Self.makeTopdir(testbed)
        let refreshesBefore = testbed.refreshLog.count
        let run = try Self.apply(topdir)
        #expect(run.status == 0, "apply: \(run.stdout)\n\(run.stderr)")
        let issuers = try testbed.issuerFiles()
        for service in Self.services { try Self.expectVerifies(topdir, service, issuers: issuers) }
        // dns-01 of both apexes in one refresh; then the cleared files in one more, and TLSA in one more.
        let refreshes = testbed.refreshLog.dropFirst(refreshesBefore)
        #expect(refreshes.count == 3, "refreshes: \(Array(refreshes))")
        #expect(refreshes.first?.contains("example.com") == true && refreshes.first?.contains("example.net") == true)
        // The challenge files are empty again.
        for apex in ["example.com", "example.net"] {
            let file = try String(
                contentsOfFile: "\(testbed.dns["DNS_ACME_DIR"] ?? "")/acme-challenge.\(apex)", encoding: .utf8)
            #expect(!file.contains("TXT"), "acme-challenge.\(apex) still holds challenges")
        }
        // TLSA: the mail services' records, in certs/, the tlsa_dirs copy and production.
        for (apex, name) in [("example.com", "mail-rsa"), ("example.net", "mail-ec")] {
            let cert = "\(topdir)/certs/\(apex)/\(name)/curr/cert.pem"
            let hash = try Self.spkiSHA256(cert)
            let tlsa = try String(contentsOfFile: "\(topdir)/certs/\(apex)/tlsa.\(apex)", encoding: .utf8)
            #expect(tlsa.contains("3 1 1 \(hash)"), "tlsa.\(apex): \(tlsa)")
            let published = try String(
                contentsOfFile: "\(testbed.dns["DNS_TLSA_DIR"] ?? "")/tlsa.\(apex)", encoding: .utf8)
            #expect(published == tlsa)
            let prod = try String(contentsOfFile: "\(topdir)/prod/\(apex)/tlsa.\(apex)", encoding: .utf8)
            #expect(prod == tlsa)
        }
        for service in Self.services {
            let prod = "\(topdir)/prod/\(service.apex)/\(service.name)/curr"
            let curr = "\(topdir)/certs/\(service.apex)/\(service.name)/curr"
            for file in ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem", "bundle.pem"] {
                #expect(
                    FileManager.default.contents(atPath: prod + "/" + file)
                        == FileManager.default.contents(atPath: curr + "/" + file),
                    "prod \(service.name)/\(file)")
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: curr + "/privkey.pem")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        // The ACME account key is private too, and no key material is in the journal.
        let journal = try String(contentsOfFile: topdir + "/.sslm/journal.jsonl", encoding: .utf8)
        #expect(!journal.contains("PRIVATE KEY"))
        #expect(journal.contains("\"action\":\"example.com/web-ec/next/order\""))
        // Nothing left to do.
        let plan = try SSLMProcess.run(["plan", "--topdir", topdir, "--detailed-exitcode"])
        #expect(plan.status == 0, "plan after apply: \(plan.stdout)\(plan.stderr)")
    }

    @Test func issuesDespiteRejectedNonces() throws {
        let testbed = try ACMETestbed(pebbleOptions: ["--nonce-reject", "20"])
        defer { testbed.stop() }
        let topdir = try Self.makeTopdir(testbed)
        let run = try Self.apply(topdir)
        #expect(run.status == 0, "apply with 20 % bad nonces: \(run.stdout)\n\(run.stderr)")
        let issuers = try testbed.issuerFiles()
        for service in Self.services { try Self.expectVerifies(topdir, service, issuers: issuers) }
    }

    /// `--test`: the staging directory, and a state of its own — nothing of the real installation changes.
    @Test func testModeUsesStagingAndASeparateState() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let services = [Self.services[0], Self.services[4]]
        let topdir = try Self.makeTopdir(testbed, services: services)
        try testbed.writeCAInfo(topdir, stagingOnly: true)
        let tlsaDirectory = testbed.dns["DNS_TLSA_DIR"] ?? ""
        let publishedBefore = try? String(contentsOfFile: tlsaDirectory + "/tlsa.example.net", encoding: .utf8)
        let run = try Self.apply(topdir, ["--test"])
        #expect(run.status == 0, "apply --test: \(run.stdout)\(run.stderr)")
        let issuers = try testbed.issuerFiles()
        for service in services { try Self.expectVerifies(topdir + "/test", service, issuers: issuers) }
        #expect(!FileManager.default.fileExists(atPath: topdir + "/certs"), "staging certificates stay out of certs/")
        #expect(!FileManager.default.fileExists(atPath: topdir + "/prod"))
        #expect(FileManager.default.fileExists(atPath: topdir + "/prod.test/example.com/web-ec/curr/fullchain.pem"))
        // A staging key's TLSA records never reach the real zone.
        let publishedAfter = try? String(contentsOfFile: tlsaDirectory + "/tlsa.example.net", encoding: .utf8)
        #expect(publishedAfter == publishedBefore)
        // The real directory was never asked (nothing listens there): without --test the run fails.
        let real = try Self.apply(topdir)
        #expect(real.status == 1)
        #expect((real.stdout + real.stderr).contains("127.0.0.1:9"), "\(real.stdout)\(real.stderr)")
        // A CA without a staging directory: --test is an error naming the CA, not an order at production.
        try testbed.writeCAInfo(topdir)
        let noStaging = try Self.apply(topdir, ["--test"])
        #expect(noStaging.status != 0)
        #expect(
            (noStaging.stdout + noStaging.stderr).contains("has no staging directory"),
            "\(noStaging.stdout)\(noStaging.stderr)")
    }

    /// A challenge that cannot succeed (the http-01 tokens go where nginx does not serve them): the failed
    /// order is recorded, the next runs back off (1 h, then 2 h) and say until when and why; `--force` retries.
    @Test func failedOrdersBackOff() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let services = [Self.services[0]]
        let topdir = testbed.directory + "/topdir-\(UUID().uuidString.prefix(8))"
        try testbed.writeTopdir(topdir, services: services, serverDir: testbed.directory + "/not-served")
        let t0 = Date()
        func env(_ at: Date) -> [String: String] { ["SSLM_NOW": ISO8601DateFormatter().string(from: at)] }
        let first = try Self.apply(topdir, environment: env(t0))
        #expect(first.status == 1, "the challenge cannot succeed: \(first.stdout)\(first.stderr)")
        let failures = try String(contentsOfFile: topdir + "/.sslm/acme/failures.json", encoding: .utf8)
        #expect(failures.contains("example.com/web-ec"), "\(failures)")
        // Within the hour: nothing is ordered; the plan says when it retries and why.
        let waiting = try SSLMProcess.run(["plan", "--json", "--topdir", topdir], environment: env(t0 + 1_800))
        #expect(!waiting.stdout.contains("acme_order"), "\(waiting.stdout)")
        #expect(waiting.stdout.contains("retry after"), "\(waiting.stdout)")
        let quiet = try Self.apply(topdir, environment: env(t0 + 1_800))
        #expect(!quiet.stdout.contains("next/order"), "\(quiet.stdout)")
        // After an hour it tries again (and fails again): the next wait is two hours.
        let second = try Self.apply(topdir, environment: env(t0 + 3_700))
        #expect(second.status == 1 && second.stdout.contains("next/order"), "\(second.stdout)")
        let doubled = try SSLMProcess.run(["plan", "--json", "--topdir", topdir], environment: env(t0 + 3_700 + 5_400))
        #expect(
            doubled.stdout.contains("retry after") && doubled.stdout.contains("2 failed order"), "\(doubled.stdout)")
        // --force bypasses the backoff.
        let forced = try SSLMProcess.run(
            ["plan", "--json", "--force", "--topdir", topdir], environment: env(t0 + 3_800))
        #expect(forced.stdout.contains("acme_order"), "\(forced.stdout)")
    }

    @Test func revokeAtTheCA() throws {
        let testbed = try ACMETestbed()
        defer { testbed.stop() }
        let services = [Self.services[0]]
        let topdir = try Self.makeTopdir(testbed, services: services)
        let run = try Self.apply(topdir)
        #expect(run.status == 0, "apply: \(run.stdout)\(run.stderr)")
        let revoked = try SSLMProcess.run([
            "revoke", "--topdir", topdir, "example.com:web-ec", "--reason", "superseded",
        ])
        #expect(revoked.status == 0, "revoke: \(revoked.stdout)\(revoked.stderr)")
        #expect(revoked.stdout.contains("revoked example.com/web-ec curr"))
        // The serial as openssl prints it: two digits per byte (swift-certificates' description drops zeros).
        let serial =
            revoked.stdout.split(separator: "(serial ").last?.split(separator: ")").first.map(String.init) ?? ""
        #expect(serial.split(separator: ":").allSatisfy { $0.count == 2 } && serial.count > 10, "\(revoked.stdout)")
        // The CA knows: a second revocation is its problem document, quoted.
        let again = try SSLMProcess.run(["revoke", "--topdir", topdir, "example.com:web-ec"])
        #expect(again.status == 1)
        #expect((again.stdout + again.stderr).contains("alreadyRevoked"), "\(again.stdout)\(again.stderr)")
        let bad = try SSLMProcess.run(["revoke", "--topdir", topdir, "example.com:web-ec", "--reason", "boredom"])
        #expect(bad.status != 0 && (bad.stdout + bad.stderr).contains("keyCompromise"))
        // The revocation is recorded: the next plan replaces the certificate without a flag (new key, new
        // certificate, rolled in the same run), and then has nothing more to do for it.
        let currBefore = try FileManager.default.destinationOfSymbolicLink(
            atPath: topdir + "/certs/example.com/web-ec/curr")
        let planned = try SSLMProcess.run(["plan", "--topdir", topdir, "--json"])
        #expect(planned.stdout.contains("certificate_revoked"), "\(planned.stdout)")
        #expect(try Self.actionKinds(planned.stdout).contains("roll"))
        let replaced = try Self.apply(topdir)
        #expect(replaced.status == 0, "apply after revoke: \(replaced.stdout)\(replaced.stderr)")
        let currAfter = try FileManager.default.destinationOfSymbolicLink(
            atPath: topdir + "/certs/example.com/web-ec/curr")
        #expect(currAfter != currBefore)
        let quiet = try SSLMProcess.run(["plan", "--topdir", topdir, "--json"])
        #expect(!quiet.stdout.contains("certificate_revoked"), "\(quiet.stdout)")
    }

    /// `sslm apply`, killed (SIGKILL, fault injection) right after the journal record of the plan's last
    /// `acme_order`.
    static func applyKilledAfterTheOrders(_ topdir: String) throws -> SSLMProcess.Output {
        let planned = try SSLMProcess.run(["plan", "--topdir", topdir, "--json"])
        guard let lastOrder = try actionKinds(planned.stdout).lastIndex(of: "acme_order") else {
            throw TestbedError("no acme_order in the plan: \(planned.stdout.prefix(300))")
        }
        return try apply(topdir, environment: ["SSLM_FAULT_KILL_AFTER_ACTIONS": String(lastOrder + 1)])
    }

    static func actionKinds(_ json: String) throws -> [String] {
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let actions = object["actions"] as? [[String: Any]]
        else { throw TestbedError("not a plan: \(json.prefix(200))") }
        return actions.compactMap { $0["kind"] as? String }
    }

    /// TLSA 3 1 1 data of a certificate, computed by the openssl CLI (independent of sslm).
    static func spkiSHA256(_ certificate: String) throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("spki-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: base + ".pem")
            try? FileManager.default.removeItem(atPath: base + ".der")
        }
        let openssl = "/usr/bin/openssl"
        _ = try SSLMProcess.run(
            ["x509", "-noout", "-pubkey", "-in", certificate, "-out", base + ".pem"], executable: openssl)
        _ = try SSLMProcess.run(
            ["pkey", "-pubin", "-in", base + ".pem", "-outform", "DER", "-out", base + ".der"],
            executable: openssl)
        let digest = try SSLMProcess.run(["dgst", "-sha256", "-r", base + ".der"], executable: openssl)
        return String(digest.stdout.split(separator: " ").first ?? "")
    }
}
