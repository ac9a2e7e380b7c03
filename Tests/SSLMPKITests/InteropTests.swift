import Foundation
import SSLMCore
import SSLMPKI
import SSLMTestSupport
import Testing
import X509

@Suite("Interoperability with the openssl CLI")
struct InteropTests {
    @Test("openssl pkey reads every generated key; files are PKCS#8 and mode 0600", arguments: keySpecsUnderTest)
    func keysReadable(spec: KeySpec) throws {
        let dir = try ScratchTopdir()
        let key = try KeyPair.generate(spec)
        let path = dir.file("privkey.pem")
        try key.write(to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let pub = try OpenSSL.run(["pkey", "-in", path, "-pubout", "-outform", "DER"])
        #expect(pub.status == 0, "\(pub.stderr)")
        #expect(pub.stdout == (try key.publicKey.spkiDER()))
        // And we read back what we wrote.
        let again = try KeyPair.read(path: path)
        #expect(again.spec == spec)
        #expect(again.matches(key.publicKey))
    }

    @Test("keys written by openssl are read (PKCS#8, SEC1, PKCS#1)")
    func readsOpenSSLKeys() throws {
        let dir = try ScratchTopdir()
        let ec = dir.file("ec.pem")
        #expect(try OpenSSL.run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ec]).status == 0)
        #expect(try KeyPair.read(path: ec).spec == .ec(.secp256r1))
        let rsa = dir.file("rsa.pem")
        #expect(try OpenSSL.run(["genrsa", "-traditional", "-out", rsa, "2048"]).status == 0)
        #expect(try KeyPair.read(path: rsa).spec == .rsa(bits: 2048))
        let ed = dir.file("ed.pem")
        #expect(try OpenSSL.run(["genpkey", "-algorithm", "ed25519", "-out", ed]).status == 0)
        #expect(try KeyPair.read(path: ed).spec == .ed25519)
        // Round trip of the RSA key as PKCS#8 keeps the modulus.
        let rsaKey = try KeyPair.read(path: rsa)
        let out = dir.file("rsa8.pem")
        try rsaKey.write(to: out)
        let a = try OpenSSL.run(["pkey", "-in", rsa, "-pubout"])
        let b = try OpenSSL.run(["pkey", "-in", out, "-pubout"])
        #expect(a.status == 0 && a.stdout == b.stdout)
    }

    @Test("RSA sizes outside 2048…8192 are refused", arguments: [1024, 2047, 2050, 8200])
    func rsaBounds(bits: Int) {
        #expect(throws: SSLMError(.invalidArgument, "")) { try KeyPair.generate(.rsa(bits: bits)) }
    }

    @Test("openssl req -verify accepts every CSR; subject and SANs as configured", arguments: keySpecsUnderTest)
    func csrVerifies(spec: KeySpec) throws {
        let dir = try ScratchTopdir()
        let key = try KeyPair.generate(spec)
        let subject = SubjectFields(
            commonName: "mail.example.com", organization: "Example Org", locality: "", stateOrProvince: "NY",
            country: "US", email: "",
            subjectAlternativeNames: ["example.com", "*.example.com", "192.0.2.1", "2001:db8::2"])
        let csr = try CertificateRequestBuilder.make(subject: subject, key: key, role: .leaf)
        let path = try dir.write("csr.pem", try CertificateRequestBuilder.pem(csr))
        let verify = try OpenSSL.run(["req", "-in", path, "-verify", "-noout"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let text = try OpenSSL.run(["req", "-in", path, "-noout", "-text", "-nameopt", "RFC2253"]).text
        #expect(text.contains("Subject: CN=mail.example.com,O=Example Org,ST=NY,C=US\n"), "\(text)")
        #expect(
            text.contains(
                "DNS:mail.example.com, DNS:example.com, DNS:*.example.com, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:2"
            ))
        #expect(!text.contains("L="))
        let expectedHash: String
        switch spec {
        case .ec(.secp256r1): expectedHash = "ecdsa-with-SHA256"
        case .ec(.secp384r1): expectedHash = "ecdsa-with-SHA384"
        case .ec(.secp521r1): expectedHash = "ecdsa-with-SHA512"
        case .rsa: expectedHash = "sha256WithRSAEncryption"
        case .ed25519: expectedHash = "ED25519"
        }
        #expect(text.contains("Signature Algorithm: \(expectedHash)"))
        #expect(!text.contains("Authority Key Identifier"))
    }

    @Test(
        "openssl verify -x509_strict -purpose sslserver accepts root → intermediate → leaf",
        arguments: keySpecsUnderTest)
    func chainVerifies(spec: KeySpec) throws {
        let dir = try ScratchTopdir()
        let pki = try TinyPKI.make(root: spec)
        let root = try dir.write("root.pem", try CertificatePEM.encode(pki.root))
        let intermediate = try dir.write("int.pem", try CertificatePEM.encode(pki.intermediate))
        let leaf = try dir.write("leaf.pem", try CertificatePEM.encode(pki.leaf))
        let attime = String(Int(fixedNow.timeIntervalSince1970) + 3600)
        let result = try OpenSSL.run([
            "verify", "-x509_strict", "-purpose", "sslserver", "-attime", attime, "-CAfile", root, "-untrusted",
            intermediate, leaf,
        ])
        #expect(result.status == 0, "\(result.text) \(result.stderr)")
        #expect(result.text.hasSuffix(": OK\n"))
        // Hostname check by openssl too.
        let named = try OpenSSL.run([
            "verify", "-x509_strict", "-purpose", "sslserver", "-attime", attime, "-verify_hostname",
            "foo.example.com", "-CAfile", root, "-untrusted", intermediate, leaf,
        ])
        #expect(named.status == 0, "\(named.text) \(named.stderr)")
        // After expiry openssl refuses it.
        let late = String(Int(fixedNow.timeIntervalSince1970) + 91 * 86_400)
        let expired = try OpenSSL.run([
            "verify", "-x509_strict", "-attime", late, "-CAfile", root, "-untrusted", intermediate, leaf,
        ])
        #expect(expired.status != 0)
    }

    @Test("mixed key types in one chain verify")
    func mixedChain() throws {
        let dir = try ScratchTopdir()
        let pki = try TinyPKI.make(root: .ed25519, intermediate: .rsa(bits: 2048), leaf: .ec(.secp384r1))
        let root = try dir.write("root.pem", try CertificatePEM.encode(pki.root))
        let intermediate = try dir.write("int.pem", try CertificatePEM.encode(pki.intermediate))
        let leaf = try dir.write("leaf.pem", try CertificatePEM.encode(pki.leaf))
        let result = try OpenSSL.run([
            "verify", "-x509_strict", "-purpose", "sslserver", "-attime", String(Int(fixedNow.timeIntervalSince1970)),
            "-CAfile", root, "-untrusted", intermediate, leaf,
        ])
        #expect(result.status == 0, "\(result.text) \(result.stderr)")
    }

    @Test("TLSA data equals the openssl pipelines", arguments: [KeySpec.ec(.secp384r1), .rsa(bits: 2048), .ed25519])
    func tlsaMatchesOpenSSL(spec: KeySpec) throws {
        let dir = try ScratchTopdir()
        let pki = try TinyPKI.make(root: spec)
        let leaf = try dir.write("cert.pem", try CertificatePEM.encode(pki.leaf))
        let pubkeyPEM = try OpenSSL.run(["x509", "-in", leaf, "-noout", "-pubkey"])
        let spki = try OpenSSL.run(["pkey", "-pubin", "-outform", "DER"], stdin: pubkeyPEM.stdout)
        let certDER = try OpenSSL.run(["x509", "-in", leaf, "-outform", "DER"])
        #expect(spki.status == 0 && certDER.status == 0)
        for (selector, input) in [(1, spki.stdout), (0, certDER.stdout)] {
            for (matching, digest) in [(1, "-sha256"), (2, "-sha512")] {
                let dgst = try OpenSSL.run(["dgst", digest, "-r"], stdin: input)
                let expected = String(dgst.text.prefix(while: { $0 != " " }))
                let ours = try TLSARecordData.hex(for: pki.leaf, selector: selector, matchingType: matching)
                #expect(ours == expected, "selector \(selector) matching \(matching)")
            }
            #expect(try TLSARecordData.data(for: pki.leaf, selector: selector, matchingType: 0) == input)
        }
        let facts = try CertificateFacts(pki.leaf)
        #expect(facts.spkiSHA256 == (try TLSARecordData.hex(for: pki.leaf, selector: 1, matchingType: 1)))
    }

    @Test("RFC 7919 PEMs are those of openssl genpkey", arguments: DHGroup.RFC7919Group.allCases)
    func ffdheMatchesOpenSSL(group: DHGroup.RFC7919Group) throws {
        let ours = try DHParameters.pem(for: group)
        let theirs = try OpenSSL.run([
            "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "dh_param:\(group.rawValue)",
        ])
        #expect(theirs.status == 0)
        #expect(ours.hasPrefix("-----BEGIN DH PARAMETERS-----\n"))
        let ourDER = try PEMBlock.parseAll(Array(ours.utf8), file: "ours").first?.derBytes
        let theirDER = try PEMBlock.parseAll(theirs.stdout, file: "theirs").first?.derBytes
        #expect(ourDER != nil && ourDER == theirDER)
    }

    @Test("generated DH parameters pass openssl dhparam -check")
    func generatedDHChecks() throws {
        let dir = try ScratchTopdir()
        let path = try dir.write("dh512.pem", try DHParameters.generatePEM(bits: 512))
        let check = try OpenSSL.run(["dhparam", "-in", path, "-check", "-noout"])
        #expect(check.status == 0, "\(check.stderr)")
        let text = try OpenSSL.run(["pkeyparam", "-in", path, "-text", "-noout"]).text
        #expect(text.contains("(512 bit)"))
        #expect(text.contains("G:    2") || text.contains("generator: 2") || text.contains("2 (0x2)"))
    }
}
