import Foundation
import SSLMCore
import SSLMPKI
import Testing
import X509

@Suite("Local signing")
struct SigningTests {
    @Test("AKI is the issuer's SKI, SKI is the subject's; roles decide BasicConstraints, KeyUsage, EKU")
    func extensionsByRole() throws {
        let pki = try TinyPKI.make(root: .ec(.secp384r1), intermediate: .ec(.secp256r1), leaf: .rsa(bits: 2048))
        let rootSKI = try #require(try pki.root.extensions.subjectKeyIdentifier).keyIdentifier
        let intSKI = try #require(try pki.intermediate.extensions.subjectKeyIdentifier).keyIdentifier
        let leafSKI = try #require(try pki.leaf.extensions.subjectKeyIdentifier).keyIdentifier
        #expect(try pki.root.extensions.authorityKeyIdentifier?.keyIdentifier == rootSKI)
        #expect(try pki.intermediate.extensions.authorityKeyIdentifier?.keyIdentifier == rootSKI)
        #expect(try pki.leaf.extensions.authorityKeyIdentifier?.keyIdentifier == intSKI)
        #expect(leafSKI != intSKI)
        #expect(try pki.intermediate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
        #expect(try pki.leaf.extensions.basicConstraints == .notCertificateAuthority)
        let caUsage = try #require(try pki.intermediate.extensions.keyUsage)
        #expect(caUsage.keyCertSign && caUsage.cRLSign)
        #expect(try pki.intermediate.extensions.extendedKeyUsage == nil)
        let leafUsage = try #require(try pki.leaf.extensions.keyUsage)
        #expect(leafUsage.digitalSignature && leafUsage.keyEncipherment && !leafUsage.keyCertSign)
        let eku = try #require(try pki.leaf.extensions.extendedKeyUsage)
        #expect(Array(eku) == [.serverAuth, .clientAuth, .emailProtection, .codeSigning, .timeStamping])
    }

    @Test("validity and digest come from the signer's policy; serial is positive and ≥ 64 bits")
    func validityDigestSerial() throws {
        let pki = try TinyPKI.make(root: .ec(.secp384r1))
        #expect(pki.leaf.notValidBefore == fixedNow)
        #expect(pki.leaf.notValidAfter == fixedNow.addingTimeInterval(90 * 86_400))
        #expect(pki.leaf.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(pki.intermediate.signatureAlgorithm == .ecdsaWithSHA384)
        #expect(pki.intermediate.notValidAfter == fixedNow.addingTimeInterval(1825 * 86_400))
        for certificate in [pki.root, pki.intermediate, pki.leaf] {
            let serial = Array(certificate.serialNumber.bytes)
            #expect(serial.count >= 8)
            #expect(serial[0] & 0x80 == 0 && serial[0] != 0)
        }
        #expect(pki.leaf.serialNumber != pki.intermediate.serialNumber)
        // SANs come from the CSR, CN first.
        let facts = try CertificateFacts(pki.leaf)
        #expect(facts.dnsNames == ["example.com", "www.example.com", "*.example.com"])
        #expect(facts.ipAddresses == ["192.0.2.7", "2001:db8::1"])
        #expect(facts.issuer == "CN=Test Intermediate CA,O=sslm tests,C=US")
        #expect(facts.keySpec == .ec(.secp384r1))
        #expect(facts.lifetimeDays == 90)
        #expect(!facts.isCA && !facts.isSelfSigned)
        #expect(try CertificateFacts(pki.root).isSelfSigned)
    }

    @Test("a signer without a [CA] section is a config error naming the file")
    func missingCASection() {
        #expect(throws: SSLMError(.configInvalid, "")) {
            try SigningPolicy.fromCASection(signEndDays: nil, digest: nil, signerFile: "conf.d/ca/my-root")
        }
        do {
            _ = try SigningPolicy.fromCASection(signEndDays: nil, digest: nil, signerFile: "conf.d/ca/my-root")
        } catch let error as SSLMError {
            #expect(error.message.contains("conf.d/ca/my-root"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: SSLMError(.configInvalid, "")) {
            try SigningPolicy.fromCASection(signEndDays: 0, digest: .sha256, signerFile: "x")
        }
        #expect((try? SigningPolicy.fromCASection(signEndDays: 30, digest: nil, signerFile: "x"))?.digest == .sha384)
    }

    @Test("a CA key that does not match its certificate, or a non-CA signer, is refused")
    func signerChecks() throws {
        let pki = try TinyPKI.make(root: .ec(.secp256r1))
        let policy = try SigningPolicy(validityDays: 10)
        #expect(throws: SSLMError(.keyMismatch, "")) {
            try LocalSigner(certificate: pki.root, key: pki.leafKey, policy: policy)
        }
        #expect(throws: SSLMError(.invalidArgument, "")) {
            try LocalSigner(certificate: pki.leaf, key: pki.leafKey, policy: policy)
        }
        #expect(throws: SSLMError(.keyMismatch, "")) {
            try LocalSigner.selfSign(
                request: pki.leafRequest, key: pki.rootKey, role: .leaf, policy: policy, now: fixedNow)
        }
    }

    @Test("subject: only non-empty attributes; bad country, CN length and SANs are errors")
    func subjectValidation() throws {
        let dn = try SubjectFields(commonName: "a.example", organization: "", country: "").distinguishedName()
        #expect(DistinguishedNameText.rfc4514(dn) == "CN=a.example")
        #expect(throws: SSLMError(.invalidArgument, "")) {
            try SubjectFields(commonName: "a.example", country: "USA").distinguishedName()
        }
        #expect(throws: SSLMError(.invalidArgument, "")) {
            try SubjectFields(commonName: String(repeating: "a", count: 65)).distinguishedName()
        }
        #expect(throws: SSLMError(.invalidArgument, "")) {
            try SubjectFields(commonName: "a.example", subjectAlternativeNames: ["10.0.0.0/8"]).alternativeNames()
        }
        let names = try SubjectFields(
            commonName: "a.example", subjectAlternativeNames: ["b.example", "A.EXAMPLE", "::1"]
        )
        .alternativeNames()
        #expect(names == [.dnsName("a.example"), .dnsName("b.example"), .ipAddress("::1")])
        // A CA's descriptive CN is not put into the SANs.
        #expect(try SubjectFields(commonName: "My Root CA").alternativeNames().isEmpty)
    }
}
