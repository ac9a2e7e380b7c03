import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import Testing

@Suite("Observer: certs trees")
struct ObserverTreeTests {
    @Test("links: valid relative and absolute, dangling, outside db, not a link, absent")
    func links() throws {
        let f = try ObserveFixture()
        let mail = ObserveFixture.mail
        try f.makeDBDir(mail, ts1)
        try f.makeDBDir(mail, ts2)
        try f.link(mail, "curr", ts2)
        // absolute target inside this service's db
        try f.symlink(ObserveFixture.serviceDir(mail) + "/prev", to: f.path + "/certs/example.com/mail/db/" + ts1)
        // dangling: the db dir does not exist
        try f.link(mail, "next", ts3)
        let web = ObserveFixture.web
        try f.makeDBDir(web, ts1)
        try f.mkdir(ObserveFixture.serviceDir(web) + "/curr")  // a real directory named curr
        try f.symlink(ObserveFixture.serviceDir(web) + "/next", to: "../mail/db/" + ts1)  // outside this db
        try f.symlink(ObserveFixture.serviceDir(web) + "/prev", to: "/etc")

        let observation = try f.observe()
        let mailState = try #require(observation.service(mail))
        #expect(mailState.exists)
        #expect(mailState.curr == .valid(ts2))
        #expect(mailState.prev == .valid(ts1))
        #expect(mailState.next == .dangling("db/" + ts3))
        #expect(mailState.dbDirs.map(\.name) == [ts1, ts2])
        let webState = try #require(observation.service(web))
        #expect(webState.curr == .notALink)
        #expect(webState.next == .dangling("../mail/db/" + ts1))
        #expect(webState.prev == .dangling("/etc"))
        let root = try #require(observation.service(ObserveFixture.root))
        #expect(!root.exists && root.curr == .absent && root.dbDirs.isEmpty)
    }

    @Test("stray entries of db/: files, undated dirs, a dated name that is a file")
    func strays() throws {
        let f = try ObserveFixture()
        let mail = ObserveFixture.mail
        try f.makeDBDir(mail, ts1)
        try f.link(mail, "curr", ts1)
        try f.write(ObserveFixture.serviceDir(mail) + "/db/notes.txt", "x")
        try f.mkdir(ObserveFixture.serviceDir(mail) + "/db/old")
        try f.write(ObserveFixture.serviceDir(mail) + "/db/" + ts2, "a file with a dated name")
        let state = try #require(try f.observe().service(mail))
        #expect(state.strayEntries == [ts2, "notes.txt", "old"])
        #expect(state.dbDirs.map(\.name) == [ts1])
    }

    @Test("curr is parsed: key, CSR, certificate and chain facts agree; old dirs by name only")
    func facts() throws {
        let f = try ObserveFixture()
        let mail = ObserveFixture.mail
        try f.makeDBDir(mail, ts1)
        let leaf = try f.makeDBDir(mail, ts2)
        try f.link(mail, "curr", ts2)
        let state = try #require(try f.observe().service(mail))
        let curr = try #require(state.dbDir(state.curr))
        #expect(curr.problems.isEmpty)
        #expect(
            Set(curr.files.keys)
                == ["privkey.pem", "csr.pem", "cert.pem", "chain.pem", "fullchain.pem", "bundle.pem", "info"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: f.path + "/certs/example.com/mail/db/\(ts2)/cert.pem"))
        #expect(curr.files["cert.pem"] == ContentDigest.labelled(bytes))
        let key = try #require(curr.key)
        let certificate = try #require(curr.certificate)
        let request = try #require(curr.request)
        #expect(key.spec == .ec(.secp256r1))
        #expect(key.spkiSHA256 == certificate.spkiSHA256)
        #expect(request.spkiSHA256 == certificate.spkiSHA256)
        #expect(request.commonName == "example.com")
        #expect(request.sans == ["example.com", "mail.example.com"])
        #expect(certificate == (try CertificateFacts(leaf)))
        #expect(curr.chainFirst?.subject == (try CertificateFacts(f.rootCertificate)).subject)
        #expect(curr.chainFirst?.isCA == true)
        // The observation never carries key bytes.
        let json = String(decoding: try JSONEncoder().encode(try f.observe()), as: UTF8.self)
        #expect(!json.contains("PRIVATE KEY"))
        // Unlinked old dir: name only.
        let old = try #require(state.dbDirs.first { $0.name == ts1 })
        #expect(old.files.isEmpty && old.certificate == nil)
    }

    @Test("a key of another certificate: SPKIs differ")
    func keyMismatch() throws {
        let f = try ObserveFixture()
        let mail = ObserveFixture.mail
        try f.makeDBDir(mail, ts1)
        try f.makeDBDir(mail, ts2)
        try FileManager.default.removeItem(atPath: f.path + "/certs/example.com/mail/db/\(ts2)/privkey.pem")
        try FileManager.default.copyItem(
            atPath: f.path + "/certs/example.com/mail/db/\(ts1)/privkey.pem",
            toPath: f.path + "/certs/example.com/mail/db/\(ts2)/privkey.pem")
        try f.link(mail, "curr", ts2)
        let curr = try #require(try f.observe().service(mail).flatMap { $0.dbDir($0.curr) })
        #expect(try #require(curr.key).spkiSHA256 != (try #require(curr.certificate)).spkiSHA256)
    }

    @Test(
        "broken files become problems, never a crash",
        arguments: [
            ("cert.pem", "truncated"), ("privkey.pem", "garbage"), ("csr.pem", "garbage"), ("chain.pem", "binary"),
            ("cert.pem", "empty"), ("privkey.pem", "a certificate"),
        ])
    func problems(file: String, damage: String) throws {
        let f = try ObserveFixture()
        let mail = ObserveFixture.mail
        try f.makeDBDir(mail, ts1)
        try f.link(mail, "next", ts1)
        let relative = ObserveFixture.serviceDir(mail) + "/db/\(ts1)/" + file
        let original = try f.read(relative)
        switch damage {
        case "truncated": try f.write(relative, String(original.prefix(original.count / 2)))
        case "garbage": try f.write(relative, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
        case "binary": try f.write(relative, [0x30, 0x82, 0x00, 0xFF, 0x00])
        case "empty": try f.write(relative, "")
        default: try f.write(relative, f.rootPEM)
        }
        let state = try #require(try f.observe().service(mail))
        let next = try #require(state.dbDir(state.next))
        let problem = try #require(next.problems[file])
        #expect(!problem.contains("\n"))
        #expect(next.files[file] != nil)  // still digested
        #expect(next.problems.count == 1)
        // The other files were parsed.
        if file != "cert.pem" { #expect(next.certificate != nil) }
        if file != "privkey.pem" { #expect(next.key != nil) }
    }

    @Test("unconfigured service directories; tlsa files and dot-entries ignored")
    func unconfigured() throws {
        let f = try ObserveFixture()
        try f.makeDBDir(ObserveFixture.mail, ts1)
        try f.mkdir("certs/example.com/removed/db")
        try f.mkdir("certs/example.com/.hidden")
        try f.write("certs/example.com/tlsa.example.com", ";; nothing\n")
        try f.mkdir("certs/example.net/other")  // not an observed group
        let observation = try f.observe()
        #expect(observation.unconfigured == [ServiceAddress(group: "example.com", service: "removed")])
        // A targeted service is not "unconfigured".
        let targeted = try f.observe(
            services: [ObserveFixture.mail, ServiceAddress(group: "example.com", service: "removed")])
        #expect(targeted.unconfigured.isEmpty)
    }

    @Test("orphans: removed services and whole removed groups, with production and curr facts; dot-entries ignored")
    func orphans() throws {
        let f = try ObserveFixture()
        try f.makeDBDir(ObserveFixture.root, ts1)
        try f.link(ObserveFixture.root, "curr", ts1)
        try f.makeDBDir(ObserveFixture.mail, ts1)
        let removed = ServiceAddress(group: "example.com", service: "removed")
        try f.makeDBDir(removed, ts1)
        try f.link(removed, "curr", ts1)
        try f.copyToProduction(removed, ts1)
        let gone = ServiceAddress(group: "gone.example", service: "web")
        try f.mkdir("certs/gone.example/web/db")
        try f.write("certs/gone.example/tlsa.gone.example", "_443._tcp.gone.example. IN TLSA 3 1 1 00ff\n")
        try f.mkdir("certs/.retired/example.com/old/20260101-00:00:00")
        try f.mkdir("certs/example.com/.hidden")
        let observation = try f.observe()
        let orphans = observation.orphans ?? []
        #expect(orphans.map(\.address) == [removed, gone])
        let first = try #require(orphans.first)
        #expect(!first.groupRemoved && first.production)
        #expect(first.curr?.dnsNames.contains("mail.example.com") == true, "curr: \(String(describing: first.curr))")
        #expect(first.currIssuedLocally, "the fixture's root issued it")
        let last = try #require(orphans.last)
        #expect(last.groupRemoved && !last.production && last.curr == nil)
        // The removed group's TLSA file is observed for its withdrawal (no DANE service keeps it).
        #expect(observation.group("gone.example")?.tlsaFile != nil)
        #expect(observation.danePublication("gone.example") == nil)
        // Archiving an orphan changes the fingerprint (a saved --retire plan goes stale).
        try f.remove("certs/gone.example/web")
        let after = try f.observe()
        #expect(after.orphans?.map(\.address) == [removed])
        #expect(after.fingerprint != observation.fingerprint)
    }

    @Test("lineage: trimmed content of .sslm/lineage, nil when absent")
    func lineage() throws {
        let f = try ObserveFixture()
        #expect(try f.observe().lineage == nil)
        try f.write(".sslm/lineage", "  9b2f-uuid\n")
        #expect(try f.observe().lineage == "9b2f-uuid")
    }
}

@Suite("Observer: production")
struct ObserverProductionTests {
    @Test("digests equal the production file set; a hand edit differs; hidden sets ignored")
    func production() throws {
        let f = try ObserveFixture()
        let mail = ObserveFixture.mail
        try f.makeDBDir(mail, ts1)
        try f.link(mail, "curr", ts1)
        try f.copyToProduction(mail, ts1)
        try f.mkdir("prod/example.com/mail/.next.tmp-1234")
        try f.write("prod/example.com/mail/.next.tmp-1234/cert.pem", "half-built")
        try f.write("prod/example.com/mail/curr/.cert.pem.tmp-1", "temporary")
        var observation = try f.observe()
        #expect(observation.production.exists)
        let service = try #require(observation.service(mail))
        let expected = ProductionLayout.productionFiles(
            of: try #require(service.dbDir(service.curr)), group: "example.com")
        var prod = try #require(observation.production.service(mail))
        #expect(prod.curr == expected)
        #expect(prod.next == nil)
        #expect(observation.production.service(ObserveFixture.web)?.curr == nil)

        try f.flipByte("prod/example.com/mail/curr/cert.pem")
        observation = try f.observe()
        prod = try #require(observation.production.service(mail))
        #expect(prod.curr?["cert.pem"] != expected["cert.pem"])
        #expect(prod.curr?["chain.pem"] == expected["chain.pem"])
    }

    @Test("curr as a symlink to a hidden directory is followed")
    func swappedLink() throws {
        let f = try ObserveFixture()
        let mail = ObserveFixture.mail
        try f.makeDBDir(mail, ts1)
        try f.link(mail, "curr", ts1)
        try f.copyToProduction(mail, ts1, slot: ".set-1")
        try f.symlink("prod/example.com/mail/curr", to: ".set-1")
        let observation = try f.observe()
        let service = try #require(observation.service(mail))
        #expect(
            observation.production.service(mail)?.curr
                == ProductionLayout.productionFiles(of: try #require(service.dbDir(service.curr)), group: "example.com")
        )
    }

    @Test("the ca group keeps private keys out of production")
    func caKeys() throws {
        #expect(!ProductionLayout.includes(fileName: "privkey.pem", group: "ca"))
        #expect(!ProductionLayout.includes(fileName: "bundle.pem", group: "ca"))
        #expect(ProductionLayout.includes(fileName: "cert.pem", group: "ca"))
        #expect(ProductionLayout.includes(fileName: "privkey.pem", group: "example.com"))
        #expect(!ProductionLayout.includes(fileName: ".cert.pem.tmp-1", group: "example.com"))
        let f = try ObserveFixture()
        try f.makeDBDir(ObserveFixture.root, ts1)
        try f.link(ObserveFixture.root, "curr", ts1)
        let service = try #require(try f.observe().service(ObserveFixture.root))
        let files = ProductionLayout.productionFiles(of: try #require(service.dbDir(service.curr)), group: "ca")
        #expect(Set(files.keys) == ["cert.pem", "chain.pem", "fullchain.pem"])
        #expect(
            ProductionLayout.serviceDirectory(prodRoot: "/p", address: ObserveFixture.root, slot: .next)
                == "/p/ca/root/next")
    }
}

@Suite("Observer: determinism and fingerprint")
struct ObserverFingerprintTests {
    func populated() throws -> ObserveFixture {
        let f = try ObserveFixture()
        for address in [ObserveFixture.mail, ObserveFixture.web] {
            try f.makeDBDir(address, ts1)
            try f.makeDBDir(address, ts2)
            try f.link(address, "prev", ts1)
            try f.link(address, "curr", ts2)
            try f.copyToProduction(address, ts2)
        }
        try f.makeDBDir(ObserveFixture.root, ts1)
        try f.link(ObserveFixture.root, "curr", ts1)
        let config = try f.config()
        let built = TLSAFileBuilder.build(
            apex: "example.com", config: config,
            dns: DNSFacts(apex: "example.com", mxHosts: ["mx.example.com"], failure: nil),
            existingFile: nil, rolling: false)
        try f.write("certs/example.com/tlsa.example.com", try #require(built.content))
        return f
    }

    static let dns = [DNSFacts(apex: "example.com", mxHosts: ["mx.example.com"], failure: nil)]

    @Test("observing twice gives equal values and fingerprints")
    func twice() throws {
        let f = try populated()
        let a = try f.observe(dns: Self.dns)
        let b = try f.observe(dns: Self.dns)
        #expect(a == b)
        #expect(a.fingerprint == b.fingerprint && a.fingerprint.hasPrefix("sha256:"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(a) == encoder.encode(b))
        // The order of the requested services does not matter.
        let reversed = try f.observe(services: Array(try f.config().services.keys).sorted().reversed(), dns: Self.dns)
        #expect(reversed.fingerprint == a.fingerprint)
    }

    @Test(
        "one changed byte in any observed file changes the fingerprint",
        arguments: [
            "certs/example.com/mail/db/\(ts2)/cert.pem", "certs/example.com/mail/db/\(ts2)/info",
            "certs/example.com/web/db/\(ts1)/privkey.pem", "certs/ca/root/db/\(ts1)/chain.pem",
            "prod/example.com/web/curr/fullchain.pem", "certs/example.com/tlsa.example.com",
        ])
    func oneByte(file: String) throws {
        let f = try populated()
        let before = try f.observe(dns: Self.dns).fingerprint
        if file.hasSuffix("tlsa.example.com") {
            // a record byte (comments are deliberately not counted)
            let text = try f.read(file)
            try f.write(file, text.replacingOccurrences(of: "IN TLSA 3 1 1 ", with: "IN TLSA 3 1 1 0"))
        } else {
            try f.flipByte(file)
        }
        #expect(try f.observe(dns: Self.dns).fingerprint != before)
    }

    @Test("links, DNS facts and lineage change the fingerprint")
    func other() throws {
        let f = try populated()
        let before = try f.observe(dns: Self.dns).fingerprint
        #expect(try f.observe(dns: []).fingerprint != before)
        try f.write(".sslm/lineage", "x")
        let withLineage = try f.observe(dns: Self.dns).fingerprint
        #expect(withLineage != before)
        try f.link(ObserveFixture.mail, "next", ts1)
        #expect(try f.observe(dns: Self.dns).fingerprint != withLineage)
    }
}
