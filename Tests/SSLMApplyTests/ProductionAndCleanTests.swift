import Foundation
import SSLMApply
import SSLMCore
import SSLMPKI
import SSLMPlan
import Testing

@Suite("Production sync through renew and roll; clean")
struct ProductionAndCleanTests {
    @Test("renew puts next into production, roll replaces curr and removes next")
    func renewThenRoll() async throws {
        let fixture = try ApplyFixture()
        let web = "example.net/web"
        let prodWeb = fixture.prod + "/example.net/web"
        let install = try await fixture.executor().apply(
            Plans.plan(Plans.build(web, signer: "self") + [Plans.sync(web, after: ["\(web)/roll"])]))
        #expect(install.succeeded, "\(install.failures)")
        let firstCert = try #require(fixture.read(prodWeb + "/curr/cert.pem"))

        let day2 = ApplyFixture.now.addingTimeInterval(86_400)
        let renew = try await fixture.executor(now: day2).apply(
            Plans.plan(
                Plans.build(web, signer: "self", roll: false)
                    + [Plans.sync(web, after: ["\(web)/next/bundle"], curr: true, next: true)]))
        #expect(renew.succeeded, "\(renew.failures)")
        let nextCert = try #require(fixture.read(fixture.file(web, "next", "cert.pem")))
        #expect(fixture.read(prodWeb + "/next/cert.pem") == nextCert)
        #expect(fixture.read(prodWeb + "/curr/cert.pem") == firstCert)
        try KeyCertificateMatch.require(
            keyPath: prodWeb + "/next/privkey.pem", certificatePath: prodWeb + "/next/cert.pem")

        let nextName = try #require(fixture.link(web, "next"))
        let day3 = ApplyFixture.now.addingTimeInterval(2 * 86_400)
        let roll = Action(
            id: "\(web)/roll", service: web, payload: .roll(next: nextName),
            reason: Plans.reason)
        let rolled = try await fixture.executor(now: day3).apply(Plans.plan([roll, Plans.sync(web, after: [roll.id])]))
        #expect(rolled.succeeded, "\(rolled.failures)")
        #expect(fixture.read(prodWeb + "/curr/cert.pem") == nextCert)
        #expect(!fixture.exists(prodWeb + "/next"))
        try KeyCertificateMatch.require(
            keyPath: prodWeb + "/curr/privkey.pem", certificatePath: prodWeb + "/curr/cert.pem")
        #expect(try FileManager.default.contentsOfDirectory(atPath: prodWeb) == ["curr"])
        // The production copy holds exactly the db directory's files (info included), not tlsa.rr of others.
        let files = try FileManager.default.contentsOfDirectory(atPath: prodWeb + "/curr").sorted()
        #expect(files == ["bundle.pem", "cert.pem", "chain.pem", "csr.pem", "fullchain.pem", "info", "privkey.pem"])
        #expect(fixture.mode(prodWeb + "/curr/privkey.pem") == 0o600)
    }

    @Test("sync refuses a set whose key does not match its certificate; production stays as it was")
    func refusesMismatchedSet() async throws {
        let fixture = try ApplyFixture()
        let web = "example.net/web"
        let prodWeb = fixture.prod + "/example.net/web"
        let install = try await fixture.executor().apply(
            Plans.plan(Plans.build(web, signer: "self") + [Plans.sync(web, after: ["\(web)/roll"])]))
        #expect(install.succeeded)
        let before = fixture.read(prodWeb + "/curr/privkey.pem")
        // Damage curr: another key.
        try KeyPair.generate(.ec(.secp384r1)).write(to: fixture.file(web, "curr", "privkey.pem"))
        let report = try await fixture.executor().apply(
            Plans.plan([Plans.sync(web, after: [])], fingerprint: "sha256:2"))
        guard case .failed(let reason)? = report.outcome("\(web)/prod") else {
            Issue.record("sync did not fail")
            return
        }
        #expect(reason.contains("does not match"))
        #expect(fixture.read(prodWeb + "/curr/privkey.pem") == before)
    }

    @Test("sync refuses a set whose fullchain is not cert + chain, naming the file; production stays as it was")
    func refusesDamagedFullchain() async throws {
        let fixture = try ApplyFixture()
        let web = "example.net/web"
        let prodWeb = fixture.prod + "/example.net/web"
        let install = try await fixture.executor().apply(
            Plans.plan(Plans.build(web, signer: "self") + [Plans.sync(web, after: ["\(web)/roll"])]))
        #expect(install.succeeded)
        let before = fixture.read(prodWeb + "/curr/fullchain.pem")
        try Data("junk\n".utf8).write(to: URL(fileURLWithPath: fixture.file(web, "curr", "fullchain.pem")))
        let report = try await fixture.executor().apply(
            Plans.plan([Plans.sync(web, after: [])], fingerprint: "sha256:3"))
        guard case .failed(let reason)? = report.outcome("\(web)/prod") else {
            Issue.record("sync did not fail")
            return
        }
        #expect(reason.contains("fullchain.pem") && reason.contains("not copied to production"), "\(reason)")
        #expect(fixture.read(prodWeb + "/curr/fullchain.pem") == before)
    }

    @Test("clean removes old dated directories, never one curr, next or prev points to")
    func cleanKeepsLinkedDirectories() async throws {
        let fixture = try ApplyFixture()
        let web = "example.net/web"
        _ = try await fixture.executor().apply(Plans.plan(Plans.build(web, signer: "self")))
        let day2 = ApplyFixture.now.addingTimeInterval(86_400)
        // Distinct plans (a plan already applied is not applied again).
        _ = try await fixture.executor(now: day2).apply(
            Plans.plan(Plans.build(web, signer: "self"), fingerprint: "sha256:day2"))
        let day3 = ApplyFixture.now.addingTimeInterval(2 * 86_400)
        _ = try await fixture.executor(now: day3).apply(
            Plans.plan(Plans.build(web, signer: "self", roll: false), fingerprint: "sha256:day3"))
        let prev = try #require(fixture.link(web, "prev"))
        let curr = try #require(fixture.link(web, "curr"))
        let next = try #require(fixture.link(web, "next"))
        let db = fixture.serviceDir(web) + "/db"
        for old in ["20200101-00:00:00", "20200102-00:00:00"] {
            try FileManager.default.createDirectory(atPath: db + "/" + old, withIntermediateDirectories: false)
            try Data("x".utf8).write(to: URL(fileURLWithPath: db + "/" + old + "/cert.pem"))
        }
        try FileManager.default.createDirectory(atPath: db + "/keep-me", withIntermediateDirectories: false)
        let clean = Action(
            id: "\(web)/clean", service: web,
            payload: .clean(remove: [
                prev, curr, next, "20200101-00:00:00", "20200102-00:00:00", "keep-me", "20200103-00:00:00",
            ]),
            reason: Reason(.oldDirectories, "test"))
        let report = try await fixture.executor(now: day3).apply(Plans.plan([clean]))
        #expect(report.succeeded, "\(report.failures)")
        let remaining = Set(try FileManager.default.contentsOfDirectory(atPath: db))
        #expect(remaining == [prev, curr, next, "keep-me"])
        #expect(fixture.link(web, "curr") == curr)
    }

    @Test("create_next takes the next free second when the name exists")
    func createNextAvoidsExistingName() async throws {
        let fixture = try ApplyFixture()
        let web = "example.net/web"
        let taken = Timestamps.dbDirectoryName(ApplyFixture.now)
        try FileManager.default.createDirectory(
            atPath: fixture.serviceDir(web) + "/db/" + taken, withIntermediateDirectories: true)
        let report = try await fixture.executor().apply(Plans.plan(Array(Plans.build(web, signer: "self").prefix(1))))
        #expect(report.succeeded)
        let expected = Timestamps.dbDirectoryName(ApplyFixture.now.addingTimeInterval(1))
        #expect(report.outcome("\(web)/next/dir") == .succeeded(detail: "db/" + expected))
        #expect(fixture.link(web, "next") == expected)
        #expect(
            FileManager.default.destinationOfSymbolicLinkOrNil(fixture.serviceDir(web) + "/next") == "db/" + expected)
    }
}

extension FileManager {
    func destinationOfSymbolicLinkOrNil(_ path: String) -> String? { try? destinationOfSymbolicLink(atPath: path) }
}
