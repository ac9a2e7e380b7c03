import Foundation
import SSLMCore
import SSLMPKI
import SSLMTestSupport
import Testing
import X509

@Suite("db directory files")
struct FileSetTests {
    func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test("local CA: chain = signer's fullchain, fullchain = cert + chain, bundle = key + fullchain, 0600 secrets")
    func localCA() throws {
        let dir = try ScratchTopdir()
        let pki = try TinyPKI.make(root: .ec(.secp384r1))
        let caFullchain = try CertificatePEM.encode([pki.intermediate, pki.root])
        let set = try CertificateFileSet.signedByLocalCA(
            key: pki.leafKey, request: pki.leafRequest, certificate: pki.leaf, signerFullchainPEM: caFullchain)
        try set.write(to: dir.path)
        let read = { (name: String) in try String(contentsOfFile: dir.file(name), encoding: .utf8) }
        let cert = try CertificatePEM.encode(pki.leaf)
        #expect(try read("cert.pem") == cert)
        #expect(try read("chain.pem") == caFullchain)
        #expect(try read("fullchain.pem") == cert + caFullchain)
        #expect(try read("bundle.pem") == (try pki.leafKey.pkcs8PEM()) + cert + caFullchain)
        #expect(try read("csr.pem").hasPrefix("-----BEGIN CERTIFICATE REQUEST-----"))
        #expect(try mode(dir.file("privkey.pem")) == 0o600)
        #expect(try mode(dir.file("bundle.pem")) == 0o600)
        #expect(try mode(dir.file("cert.pem")) != 0o600)
        #expect(
            try KeyCertificateMatch.matches(keyPath: dir.file("privkey.pem"), certificatePath: dir.file("cert.pem")))
        // write_bundle rebuilds the same bundle from the directory.
        try FileManager.default.removeItem(atPath: dir.file("bundle.pem"))
        try CertificateFileSet.writeBundle(in: dir.path)
        #expect(try read("bundle.pem") == set.bundlePEM)
        #expect(try mode(dir.file("bundle.pem")) == 0o600)
        // openssl agrees the bundle's key and chain belong together.
        let verify = try OpenSSL.run([
            "verify", "-attime", String(Int(fixedNow.timeIntervalSince1970)), "-CAfile", dir.file("chain.pem"),
            dir.file("cert.pem"),
        ])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test("self-signed: chain and fullchain are the certificate itself")
    func selfSigned() throws {
        let key = try KeyPair.generate(.ec(.secp256r1))
        let csr = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "s.example"), key: key, role: .leaf)
        let cert = try LocalSigner.selfSign(
            request: csr, key: key, role: .leaf, policy: SigningPolicy(validityDays: 30),
            now: fixedNow)
        let set = try CertificateFileSet.selfSigned(key: key, request: csr, certificate: cert)
        #expect(set.chainPEM == set.certificatePEM && set.fullchainPEM == set.certificatePEM)
        #expect(try CertificateFacts(cert).isSelfSigned)
    }

    @Test("ACME: PEM texts are kept byte for byte")
    func acme() throws {
        let key = try KeyPair.generate(.ec(.secp384r1))
        let set = try CertificateFileSet.issuedByACME(
            key: key, request: nil, certificatePEM: "C\n", chainPEM: "I\nR\n",
            fullchainPEM: "C\nI\nR\n")
        #expect(set.bundlePEM == (try key.pkcs8PEM()) + "C\nI\nR\n")
        #expect(set.requestPEM == nil)
    }

    @Test("writeBundle refuses a key that does not belong to the certificate, naming the file")
    func bundleMismatch() throws {
        let dir = try ScratchTopdir()
        let pki = try TinyPKI.make(root: .ec(.secp256r1))
        try pki.rootKey.write(to: dir.file("privkey.pem"))
        _ = try dir.write("fullchain.pem", try CertificatePEM.encode([pki.leaf, pki.intermediate]))
        do {
            try CertificateFileSet.writeBundle(in: dir.path)
            Issue.record("expected an error")
        } catch let error as SSLMError {
            #expect(error.code == .keyMismatch)
            #expect(error.message.contains(dir.file("privkey.pem")))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("bundle.pem")))
    }
}

@Suite("Malformed input")
struct MalformedInputTests {
    @Test(
        "errors name the file and never crash",
        arguments: [
            ("truncated", "-----BEGIN CERTIFICATE-----\nMIIB\n", "no END line"),
            ("badbase64", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "base64"),
            ("notder", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be decoded"),
            ("empty", "", "no PEM block"),
            ("mismatched", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n", "closes"),
        ])
    func certificates(name: String, text: String, fragment: String) throws {
        let dir = try ScratchTopdir()
        let path = try dir.write(name + ".pem", text)
        do {
            _ = try CertificatePEM.read(path: path)
            Issue.record("expected an error")
        } catch let error as SSLMError {
            #expect(error.message.hasPrefix(path + ":"))
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test("binary garbage and damaged keys")
    func garbageAndKeys() throws {
        let dir = try ScratchTopdir()
        let garbage = dir.file("garbage")
        try Data([0x30, 0x82, 0xff, 0x00, 0x01, 0x02, 0xfe]).write(to: URL(fileURLWithPath: garbage))
        #expect(throws: SSLMError(.malformedInput, "")) { try KeyPair.read(path: garbage) }
        #expect(throws: SSLMError(.malformedInput, "")) { try CertificatePEM.read(path: garbage) }
        let key = try dir.write("key.pem", "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n")
        do {
            _ = try KeyPair.read(path: key)
            Issue.record("expected an error")
        } catch let error as SSLMError {
            #expect(error.message.hasPrefix(key))
        }
        #expect(throws: SSLMError(.fileUnreadable, "")) { try KeyPair.read(path: dir.file("absent.pem")) }
    }

    @Test("info: a bundle in the wrong order and a mismatching key are errors")
    func bundles() throws {
        let pki = try TinyPKI.make(root: .ec(.secp256r1))
        let key = try pki.leafKey.pkcs8PEM()
        let chain = try CertificatePEM.encode([pki.leaf, pki.intermediate, pki.root])
        #expect(
            try PEMInfoReport.render(bytes: Array((key + chain).utf8), file: "b.pem", now: fixedNow, verbose: false)
                .contains("Key algo : prvkey-secp256r1"))
        #expect(throws: SSLMError(.malformedInput, "")) {
            try PEMInfoReport.render(bytes: Array((chain + key).utf8), file: "b.pem", now: fixedNow, verbose: false)
        }
        let reversed = try CertificatePEM.encode([pki.leaf, pki.root, pki.intermediate])
        #expect(throws: SSLMError(.malformedInput, "")) {
            try PEMInfoReport.render(bytes: Array((key + reversed).utf8), file: "b.pem", now: fixedNow, verbose: false)
        }
        let otherKey = try pki.rootKey.pkcs8PEM()
        #expect(throws: SSLMError(.keyMismatch, "")) {
            try PEMInfoReport.render(
                bytes: Array((otherKey + chain).utf8), file: "b.pem", now: fixedNow, verbose: false)
        }
    }
}

@Suite("TLSA records and files")
struct TLSAFileTests {
    @Test("owners: apex plus SANs, skipping the apex duplicate, wildcards and IPs (with warnings)")
    func sanOwners() throws {
        let pki = try TinyPKI.make(root: .ec(.secp256r1))
        let specs = [DANESpec(port: 443, proto: "tcp", usage: 3, selector: 1, matchingType: 1)]
        let (records, warnings) = try TLSARecordSet.records(
            apex: "example.com", specs: specs, ttl: 1800, certificate: pki.leaf,
            sans: ["example.com", "www.example.com", "*.example.com", "192.0.2.7", "www.example.com."],
            mxHosts: ["mx.example.com."], sourceFile: "conf.d/example.com/web")
        #expect(records.map(\.owner) == ["_443._tcp.example.com.", "_443._tcp.www.example.com."])
        #expect(warnings.count == 2)
        #expect(warnings.allSatisfy { $0.severity == .warning && $0.file == "conf.d/example.com/web" })
        let hex = try TLSARecordData.hex(for: pki.leaf, selector: 1, matchingType: 1)
        #expect(records[0].zoneText == "_443._tcp.example.com. 1800  IN TLSA 3 1 1 \(hex)")
    }

    @Test("port 25 or subtype MX uses the MX hosts; an explicit SANS subtype wins over port 25")
    func mxOwners() throws {
        let pki = try TinyPKI.make(root: .ec(.secp256r1))
        let specs = [
            DANESpec(port: 25, proto: "tcp", usage: 3, selector: 1, matchingType: 1),
            DANESpec(port: 25, proto: "tcp", usage: 2, selector: 0, matchingType: 2, subtype: .sans),
        ]
        let (records, _) = try TLSARecordSet.records(
            apex: "example.com", specs: specs, ttl: 0, certificate: pki.leaf, issuer: pki.intermediate,
            sans: ["smtp.example.com"], mxHosts: ["mx1.example.com.", "example.com.", "mx2.example.com."])
        #expect(
            records.map(\.owner) == [
                "_25._tcp.example.com.", "_25._tcp.mx1.example.com.", "_25._tcp.mx2.example.com.",
                "_25._tcp.example.com.", "_25._tcp.smtp.example.com.",
            ])
        #expect(records[0].zoneText.hasPrefix("_25._tcp.example.com.  IN TLSA 3 1 1 "))
        // SHA-512 data is split into 72-character chunks.
        let long = records[3].zoneText
        #expect(long.hasPrefix("_25._tcp.example.com.  IN TLSA ( 2 0 2\n" + String(repeating: " ", count: 20)))
        #expect(long.hasSuffix(" )"))
        #expect(long.split(separator: "\n").count == 3)
    }

    @Test("usage 2 (DANE-TA) names the issuing CA: its data is the intermediate's SPKI hash, as openssl computes it")
    func daneTA() throws {
        let pki = try TinyPKI.make(root: .ec(.secp256r1))
        let specs = [DANESpec(port: 25, proto: "tcp", usage: 2, selector: 1, matchingType: 1, subtype: .sans)]
        let (records, _) = try TLSARecordSet.records(
            apex: "example.com", specs: specs, ttl: 0, certificate: pki.leaf, issuer: pki.intermediate,
            sans: ["smtp.example.com"], mxHosts: [])
        let pem = try pki.intermediate.serializeAsPEM().pemString
        let pub = try OpenSSL.run(["x509", "-noout", "-pubkey"], stdin: Array(pem.utf8))
        let der = try OpenSSL.run(["pkey", "-pubin", "-outform", "DER"], stdin: pub.stdout)
        let digest = try OpenSSL.run(["dgst", "-sha256", "-r"], stdin: der.stdout)
        let expected = String(digest.text.split(separator: " ").first ?? "")
        #expect(expected.count == 64 && records.allSatisfy { $0.dataHex == expected })
        #expect(records.first?.dataHex != (try TLSARecordData.hex(for: pki.leaf, selector: 1, matchingType: 1)))
        // Without the issuing CA there is no right answer: an error, not the leaf's hash.
        #expect(throws: SSLMError.self) {
            try TLSARecordSet.records(
                apex: "example.com", specs: specs, ttl: 0, certificate: pki.leaf,
                sans: ["smtp.example.com"], mxHosts: [])
        }
    }

    @Test("tlsa.rr and tlsa.<apex> formats; repeated rows are commented out; no rows → no file")
    func files() throws {
        let a = TLSARecord(
            owner: "_25._tcp.example.com.", ttl: 1800, usage: 3, selector: 1, matchingType: 1, dataHex: "aa")
        let b = TLSARecord(
            owner: "_25._tcp.mx.example.com.", ttl: 1800, usage: 3, selector: 1, matchingType: 1, dataHex: "aa")
        let curr = TLSAServiceFile.render(
            apex: "example.com", service: "mail", timestamp: "20270115-12:00:00", records: [a, b])
        #expect(
            curr == """
                ;;
                ;; tlsa example.com mail 20270115-12:00:00
                ;;
                _25._tcp.example.com. 1800  IN TLSA 3 1 1 aa
                _25._tcp.mx.example.com. 1800  IN TLSA 3 1 1 aa

                """)
        let next = TLSAServiceFile.render(
            apex: "example.com", service: "mail", timestamp: "20270201-00:00:00",
            records: [a.with(hex: "bb"), b])
        let domain = TLSADomainFile.render(
            apex: "example.com", rolling: false,
            sections: [
                .init(service: "mail", slot: "curr", tlsaText: curr),
                .init(service: "mail", slot: "next", tlsaText: next),
            ])
        #expect(
            domain == """
                ;;
                ;; TLSA example.com : phase = normal
                ;;
                ;;
                ;; mail curr
                ;;
                _25._tcp.example.com. 1800  IN TLSA 3 1 1 aa
                _25._tcp.mx.example.com. 1800  IN TLSA 3 1 1 aa
                ;;
                ;; mail next
                ;;
                _25._tcp.example.com. 1800  IN TLSA 3 1 1 bb
                ;; _25._tcp.mx.example.com. 1800  IN TLSA 3 1 1 aa


                """)
        let empty = TLSAServiceFile.render(apex: "example.com", service: "web", timestamp: "t", records: [])
        #expect(
            TLSADomainFile.render(
                apex: "example.com", rolling: true,
                sections: [
                    .init(service: "web", slot: "curr", tlsaText: empty)
                ]) == nil)
    }

    @Test("selector and matching type outside 0…2 are refused")
    func badSpec() throws {
        let pki = try TinyPKI.make(root: .ec(.secp256r1))
        #expect(throws: SSLMError(.invalidArgument, "")) {
            try TLSARecordData.data(for: pki.leaf, selector: 2, matchingType: 1)
        }
        #expect(throws: SSLMError(.invalidArgument, "")) {
            try TLSARecordData.data(for: pki.leaf, selector: 1, matchingType: 3)
        }
    }
}

extension TLSARecord {
    func with(hex: String) -> TLSARecord {
        var copy = self
        copy.dataHex = hex
        return copy
    }
}

@Suite("DH parameter directory")
struct DHParamDirectoryTests {
    @Test("key list parsing and link target")
    func keys() throws {
        #expect(
            try DHParamDirectory.parseKeys("ffdhe8192, 4096,FFDHE2048") == [
                .named(.ffdhe8192), .generated(bits: 4096),
                .named(.ffdhe2048),
            ])
        #expect(throws: SSLMError(.invalidArgument, "")) { try DHParamDirectory.parseKeys("ffdhe1024") }
        #expect(throws: SSLMError(.invalidArgument, "")) { try DHParamDirectory.parseKeys("256") }
        #expect(DHParamDirectory().linkTarget == .named(.ffdhe8192))
        #expect(
            DHParamDirectory(groups: [.named(.ffdhe2048), .generated(bits: 2048)]).linkTarget == .generated(bits: 2048))
        #expect(DHGroup.generated(bits: 4096).fileName == "dh4096.pem")
        #expect(DHGroup.named(.ffdhe3072).fileName == "dh-ffdhe3072.pem")
    }

    @Test("named groups never age; numeric files age by mtime against the given now; -f regenerates all")
    func ageing() throws {
        let dir = try ScratchTopdir()
        let updater = DHParamDirectory(groups: [.generated(bits: 512), .named(.ffdhe2048)], maxAgeDays: 10)
        let first = try updater.update(directory: dir.path, now: Date())
        #expect(first.map(\.kind) == [.written, .written, .linked])
        let soon = try updater.update(directory: dir.path, now: Date().addingTimeInterval(5 * 86_400))
        #expect(soon.map(\.kind) == [.kept, .kept])
        let later = try updater.update(directory: dir.path, now: Date().addingTimeInterval(11 * 86_400))
        #expect(later.map(\.kind) == [.regenerated, .kept])
        var forced = updater
        forced.force = true
        #expect(try forced.update(directory: dir.path, now: Date()).map(\.kind) == [.regenerated, .regenerated])
    }
}

@Suite struct HexTextTests {
    /// Serial numbers and fingerprints: two digits per byte, like openssl (not `7b:5:c0`).
    @Test func colonSeparatedKeepsLeadingZeros() {
        #expect(Hex.colonSeparated([0x7B, 0x05, 0xC0, 0x00]) == "7b:05:c0:00")
        #expect(Hex.colonSeparated([]) == "")
    }
}
