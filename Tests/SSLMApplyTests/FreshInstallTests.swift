import Foundation
import SSLMApply
import SSLMCore
import SSLMPKI
import SSLMPlan
import Testing

@Suite("Fresh install: root → intermediate → leaf")
struct FreshInstallTests {
    @Test("every action succeeds and builds the full tree")
    func fullTree() async throws {
        let fixture = try ApplyFixture()
        let report = try await fixture.executor().apply(Plans.plan(Plans.freshInstall()))
        #expect(report.succeeded, "\(report.failures)")
        #expect(report.results.count == Plans.freshInstall().count)

        let dbName = Timestamps.dbDirectoryName(ApplyFixture.now)
        for service in ["ca/root", "ca/int", "example.com/mail"] {
            #expect(fixture.link(service, "curr") == dbName, "\(service) curr")
            #expect(fixture.link(service, "next") == nil, "\(service) next is removed by the roll")
            #expect(fixture.link(service, "prev") == nil, "first roll: no prev")
            for file in ["privkey.pem", "csr.pem", "cert.pem", "chain.pem", "fullchain.pem", "bundle.pem", "info"] {
                #expect(fixture.exists(fixture.file(service, "curr", file)), "\(service)/curr/\(file)")
            }
            #expect(
                fixture.read(fixture.file(service, "curr", "info"))
                    == "# \(service.split(separator: "/")[1]) rolled to curr : \(dbName)\n")
        }
        #expect(fixture.exists(fixture.file("example.com/mail", "curr", "tlsa.rr")))
        #expect(!fixture.exists(fixture.file("ca/int", "curr", "tlsa.rr")))
    }

    @Test("openssl verifies the leaf against root and intermediate; chain files follow spec §3.3")
    func opensslVerifies() async throws {
        let fixture = try ApplyFixture()
        let report = try await fixture.executor().apply(Plans.plan(Plans.freshInstall()))
        #expect(report.succeeded, "\(report.failures)")
        let root = fixture.file("ca/root", "curr", "cert.pem")
        let int = fixture.file("ca/int", "curr", "cert.pem")
        let leaf = fixture.file("example.com/mail", "curr", "cert.pem")
        let verify = try runTool(
            "/usr/bin/openssl",
            [
                "verify", "-attime", String(Int(ApplyFixture.now.timeIntervalSince1970) + 60), "-CAfile", root,
                "-untrusted", int, leaf,
            ])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains(": OK"))

        // Self-signed root: chain = fullchain = cert. Local CA: chain = the CA's fullchain.
        let rootPEM = fixture.read(root)
        #expect(rootPEM != nil)
        #expect(fixture.read(fixture.file("ca/root", "curr", "chain.pem")) == rootPEM)
        #expect(fixture.read(fixture.file("ca/root", "curr", "fullchain.pem")) == rootPEM)
        let intFullchain = try #require(fixture.read(fixture.file("ca/int", "curr", "fullchain.pem")))
        #expect(fixture.read(fixture.file("ca/int", "curr", "chain.pem")) == rootPEM)
        #expect(fixture.read(fixture.file("example.com/mail", "curr", "chain.pem")) == intFullchain)
        let leafPEM = try #require(fixture.read(leaf))
        #expect(fixture.read(fixture.file("example.com/mail", "curr", "fullchain.pem")) == leafPEM + intFullchain)
        let key = try #require(fixture.read(fixture.file("example.com/mail", "curr", "privkey.pem")))
        #expect(key.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(fixture.read(fixture.file("example.com/mail", "curr", "bundle.pem")) == key + leafPEM + intFullchain)

        // The intermediate is a CA, the leaf is not.
        let intText = try runTool("/usr/bin/openssl", ["x509", "-in", int, "-noout", "-text"])
        #expect(intText.output.contains("CA:TRUE"))
        let leafText = try runTool("/usr/bin/openssl", ["x509", "-in", leaf, "-noout", "-text"])
        #expect(leafText.output.contains("CA:FALSE"))
        #expect(leafText.output.contains("DNS:mail.example.com"))
    }

    @Test("keys and bundles are 0600, directories 0750")
    func permissions() async throws {
        let fixture = try ApplyFixture()
        let report = try await fixture.executor().apply(Plans.plan(Plans.freshInstall()))
        #expect(report.succeeded, "\(report.failures)")
        let dbName = Timestamps.dbDirectoryName(ApplyFixture.now)
        for service in ["ca/root", "ca/int", "example.com/mail"] {
            #expect(fixture.mode(fixture.file(service, "curr", "privkey.pem")) == 0o600)
            #expect(fixture.mode(fixture.file(service, "curr", "bundle.pem")) == 0o600)
            #expect(fixture.mode(fixture.serviceDir(service)) == 0o750)
            #expect(fixture.mode(fixture.serviceDir(service) + "/db") == 0o750)
            #expect(fixture.mode(fixture.serviceDir(service) + "/db/" + dbName) == 0o750)
        }
        #expect(fixture.mode(fixture.path + "/.sslm") == 0o700)
        #expect(fixture.mode(fixture.prod + "/example.com/mail/curr") == 0o750)
        #expect(fixture.mode(fixture.prod + "/example.com/mail/curr/privkey.pem") == 0o600)
    }

    @Test("TLSA: next/tlsa.rr, the apex file, its published copy and its production copy agree")
    func tlsaFiles() async throws {
        let fixture = try ApplyFixture()
        let report = try await fixture.executor().apply(Plans.plan(Plans.freshInstall()))
        #expect(report.succeeded, "\(report.failures)")
        let serviceFile = try #require(fixture.read(fixture.file("example.com/mail", "curr", "tlsa.rr")))
        let dbName = Timestamps.dbDirectoryName(ApplyFixture.now)
        #expect(serviceFile.hasPrefix(";;\n;; tlsa example.com mail \(dbName)\n;;\n"))
        #expect(serviceFile.contains("_25._tcp.example.com. 1800  IN TLSA 3 1 1 "))
        #expect(serviceFile.contains("_25._tcp.mx.example.com. 1800  IN TLSA 3 1 1 "))

        // 3 1 1 data = SHA-256 of the DER SubjectPublicKeyInfo (checked with openssl).
        let spki = try runTool(
            "/bin/sh",
            [
                "-c",
                "openssl x509 -in \"$0\" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r",
                fixture.file("example.com/mail", "curr", "cert.pem"),
            ])
        let hex = try #require(spki.output.split(separator: " ").first.map(String.init))
        #expect(serviceFile.contains(hex))

        let apexFile = try #require(fixture.read(fixture.path + "/certs/example.com/tlsa.example.com"))
        #expect(apexFile.contains(";; TLSA example.com : phase = roll next to curr"))
        #expect(apexFile.contains(";; mail curr"))
        #expect(apexFile.contains("_25._tcp.mx.example.com. 1800  IN TLSA 3 1 1 \(hex)"))
        #expect(fixture.read(fixture.path + "/dns/tlsa/tlsa.example.com") == apexFile)
        #expect(fixture.read(fixture.prod + "/example.com/tlsa.example.com") == apexFile)
    }

    @Test("production holds curr with a matching key; CA private keys never reach production")
    func production() async throws {
        let fixture = try ApplyFixture()
        let report = try await fixture.executor().apply(Plans.plan(Plans.freshInstall()))
        #expect(report.succeeded, "\(report.failures)")
        let mail = fixture.prod + "/example.com/mail/curr"
        try KeyCertificateMatch.require(keyPath: mail + "/privkey.pem", certificatePath: mail + "/cert.pem")
        #expect(
            fixture.read(mail + "/fullchain.pem")
                == fixture.read(fixture.file("example.com/mail", "curr", "fullchain.pem")))
        #expect(!fixture.exists(fixture.prod + "/example.com/mail/next"))
        for ca in ["root", "int"] {
            let curr = fixture.prod + "/ca/\(ca)/curr"
            #expect(fixture.exists(curr + "/cert.pem"))
            #expect(fixture.exists(curr + "/fullchain.pem"))
            #expect(!fixture.exists(curr + "/privkey.pem"), "CA key of \(ca) in production")
            #expect(!fixture.exists(curr + "/bundle.pem"), "CA bundle of \(ca) in production")
        }
        // No staging leftovers next to the swapped directories.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.prod + "/example.com/mail")
        #expect(leftovers == ["curr"])
    }

    @Test("applying the same plan again is a no-op: every action is already applied, nothing changes")
    func secondApplyIsNoOp() async throws {
        let fixture = try ApplyFixture()
        let plan = Plans.plan(Plans.freshInstall())
        let first = try await fixture.executor().apply(plan)
        #expect(first.succeeded, "\(first.failures)")
        let before = fixture.snapshot()
        let second = try await fixture.executor(now: ApplyFixture.now.addingTimeInterval(3600)).apply(plan)
        #expect(second.succeeded)
        #expect(second.results.allSatisfy { $0.outcome == .alreadyApplied })
        #expect(second.planDigest == first.planDigest)
        #expect(fixture.snapshot() == before)
    }

    @Test("the journal records begin, start/ok per action and end; the lineage is created")
    func journalAndLineage() async throws {
        let fixture = try ApplyFixture()
        let plan = Plans.plan(Plans.build("example.net/web", signer: "self"))
        let report = try await fixture.executor().apply(plan)
        #expect(report.succeeded, "\(report.failures)")
        let records = Journal.records(topdir: fixture.path)
        #expect(records.first?.event == .begin)
        #expect(records.last?.event == .end)
        #expect(records.allSatisfy { $0.plan == report.planDigest })
        let starts = records.filter { $0.event == .start }.compactMap(\.action)
        let oks = records.filter { $0.event == .ok }.compactMap(\.action)
        #expect(starts == plan.actions.map(\.id))
        #expect(oks == plan.actions.map(\.id))
        let created = records.first { $0.action == "example.net/web/next/dir" && $0.event == .ok }
        #expect(created?.detail == "db/" + Timestamps.dbDirectoryName(ApplyFixture.now))
        let lineage = try #require(fixture.read(fixture.path + "/.sslm/lineage"))
        #expect(UUID(uuidString: lineage.trimmingCharacters(in: .whitespacesAndNewlines)) != nil)
        // Every line is one JSON object.
        let lines = try #require(fixture.read(fixture.path + "/.sslm/journal.jsonl")).split(separator: "\n")
        #expect(lines.count == records.count)
    }
}
