import Foundation
import SSLMTestSupport
import Testing

/// Damaged `certs/` state and production modes, through the real executable on the bundled example:
/// a damaged set is repaired or renewed, never copied to production, and the next plan is empty.
@Suite(
    "Damaged state is repaired and never reaches production",
    .enabled(if: TestTier.full, "runs sslm apply on the example: not in make check"))
struct DamagedStateCLITests {
    private static let service = "example.com/web-ec"
    private static let productionFiles = [
        "bundle.pem", "cert.pem", "chain.pem", "csr.pem", "fullchain.pem", "info", "privkey.pem",
    ]

    /// A topdir after a first apply (every service has a curr, production holds it).
    private static func installed(_ prefix: String) throws -> String {
        let topdir = try ExampleTopdir.make(prefix)
        let install = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        return topdir
    }

    private static func certsCurr(_ topdir: String) -> String { topdir + "/certs/\(service)/curr" }
    private static func prodCurr(_ topdir: String) -> String { topdir + "/prod-certs/\(service)/curr" }

    private static func contents(_ directory: String) -> [String: Data] {
        var result: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix(".") {
            result[name] = FileManager.default.contents(atPath: directory + "/" + name)
        }
        return result
    }

    private static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
    }

    private static func openssl(_ arguments: [String]) throws -> String {
        try OpenSSL.run(arguments).output
    }

    private static func emptyPlan(_ topdir: String) throws {
        let plan = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir])
        #expect(plan.status == 0, "the next plan is not empty:\n\(plan.stdout)\(plan.stderr)")
    }

    @Test func junkFullchainAndMissingChainAreRepaired() throws {
        let topdir = try Self.installed("sslm-damage-fullchain")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let good = Self.contents(Self.prodCurr(topdir))
        #expect(Set(good.keys) == Set(Self.productionFiles))
        try "junk\n".write(toFile: Self.certsCurr(topdir) + "/fullchain.pem", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: Self.certsCurr(topdir) + "/chain.pem")

        let plan = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains(planRow("repair_set", "\(Self.service)/curr/repair")), "\(plan.stdout)")
        #expect(plan.stdout.contains("current_damaged: curr (db/"), "\(plan.stdout)")
        #expect(plan.stdout.contains("chain.pem is missing"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("\(Self.service)/next/dir"), "a repair, not a renewal:\n\(plan.stdout)")

        let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(Self.contents(Self.prodCurr(topdir)) == good, "production holds the good set")
        let repaired = Self.contents(Self.certsCurr(topdir))
        for name in Self.productionFiles { #expect(repaired[name] == good[name], "certs curr/\(name) is repaired") }
        try Self.emptyPlan(topdir)
    }

    @Test func forgedCertificateIsRenewedAndNeverReachesProduction() throws {
        let topdir = try Self.installed("sslm-damage-forged")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let forged = topdir + "/forged.pem"
        let made = try Self.openssl([
            "req", "-x509", "-key", Self.certsCurr(topdir) + "/privkey.pem", "-subj", "/CN=evil.example.org",
            "-addext", "subjectAltName=DNS:evil.example.org", "-days", "30", "-out", forged,
        ])
        let forgedBytes = try #require(FileManager.default.contents(atPath: forged), "\(made)")
        try forgedBytes.write(to: URL(fileURLWithPath: Self.certsCurr(topdir) + "/cert.pem"))

        let plan = try SSLMProcess.run(["plan", "--topdir", topdir])
        #expect(plan.stdout.contains("current_unverified"), "\(plan.stdout)")
        #expect(
            plan.stdout.contains("\(Self.service)/roll"), "the new certificate becomes curr at once:\n\(plan.stdout)")

        let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        let production = Self.prodCurr(topdir) + "/cert.pem"
        let installed = try #require(FileManager.default.contents(atPath: production))
        #expect(installed != forgedBytes)
        #expect(Self.contents(Self.prodCurr(topdir)).values.allSatisfy { !$0.contains(forgedBytes) })
        let text = try Self.openssl([
            "x509", "-in", production, "-noout", "-subject", "-issuer", "-ext", "subjectAltName",
        ])
        #expect(!text.contains("evil"), "\(text)")
        #expect(text.contains("www.example.com") && text.contains("Example Intermediate CA"), "\(text)")
        let verify = try Self.openssl([
            "verify", "-CAfile", topdir + "/certs/ca/my-root/curr/cert.pem", "-untrusted",
            Self.prodCurr(topdir) + "/chain.pem", production,
        ])
        #expect(verify.contains(": OK"), "\(verify)")
        try Self.emptyPlan(topdir)
    }

    @Test func danglingCurrGetsANewCertificateInOneApply() throws {
        let topdir = try Self.installed("sslm-damage-dangling")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let link = topdir + "/certs/\(Self.service)/curr"
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: link)
        let oldCertificate = try #require(FileManager.default.contents(atPath: link + "/cert.pem"))
        try FileManager.default.removeItem(atPath: topdir + "/certs/\(Self.service)/" + target)

        let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        // The new directory may have the old one's name (same second); its certificate is a new one.
        let newCertificate = FileManager.default.contents(atPath: link + "/cert.pem")
        #expect(newCertificate != nil && newCertificate != oldCertificate)
        #expect(
            Self.contents(Self.prodCurr(topdir))["cert.pem"] == FileManager.default.contents(atPath: link + "/cert.pem")
        )
        try Self.emptyPlan(topdir)
    }

    @Test func wideKeyModeInCertsBecomes0600InProduction() throws {
        let topdir = try Self.installed("sslm-damage-certs-mode")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        for name in ["privkey.pem", "bundle.pem"] {
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o644], ofItemAtPath: Self.certsCurr(topdir) + "/" + name)
        }
        // Production must be copied while certs/ still holds the 0644 key: --phase roll leaves the repair
        // of certs/ for later, the missing production cert.pem makes the copy.
        try FileManager.default.removeItem(atPath: Self.prodCurr(topdir) + "/cert.pem")
        let plan = try SSLMProcess.run(["plan", "--topdir", topdir])
        #expect(plan.stdout.contains("privkey.pem has mode 0644"), "\(plan.stdout)")
        let copy = try SSLMProcess.run(["apply", "--phase", "roll", "--topdir", topdir])
        #expect(copy.status == 0, "\(copy.stdout)\(copy.stderr)")
        #expect(Self.mode(Self.certsCurr(topdir) + "/privkey.pem") == 0o644, "the roll phase did not repair certs/")
        #expect(Self.mode(Self.prodCurr(topdir) + "/privkey.pem") == 0o600)
        #expect(Self.mode(Self.prodCurr(topdir) + "/bundle.pem") == 0o600)
        #expect(Self.mode(Self.prodCurr(topdir) + "/cert.pem") == 0o644)

        let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(Self.mode(Self.certsCurr(topdir) + "/privkey.pem") == 0o600)
        #expect(Self.mode(Self.certsCurr(topdir) + "/bundle.pem") == 0o600)
        try Self.emptyPlan(topdir)
    }

    @Test func wideModeOfAProductionKeyIsDrift() throws {
        let topdir = try Self.installed("sslm-damage-prod-mode")
        defer { try? FileManager.default.removeItem(atPath: topdir) }
        let key = Self.prodCurr(topdir) + "/privkey.pem"
        #expect(Self.mode(key) == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)

        let plan = try SSLMProcess.run(["plan", "--detailed-exitcode", "--topdir", topdir])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        #expect(
            plan.stdout.contains(
                "production_drift: prod-certs/\(Self.service)/curr/privkey.pem has mode 0644; sslm sets 0600"),
            "\(plan.stdout)")
        let apply = try SSLMProcess.run(["apply", "--topdir", topdir])
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(Self.mode(key) == 0o600)
        try Self.emptyPlan(topdir)
    }
}
