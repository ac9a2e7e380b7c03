import Foundation
import SSLMCore
import SSLMPKI
import Testing
import X509

@testable import SSLMObserve

/// The observer's fast paths must give exactly what the reference implementations give.
@Suite("Observer fast paths agree with SSLMPKI and SSLMCore")
struct FastFactsTests {
    @Test("digests", arguments: [0, 1, 55, 64, 1000])
    func digests(size: Int) {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        #expect(FastFacts.labelledDigest(bytes) == ContentDigest.labelled(bytes))
        #expect(FastFacts.sha256Hex(bytes) == ContentDigest.sha256Hex(bytes))
    }

    @Test("PEM blocks: same blocks, same errors")
    func pem() throws {
        let key = try KeyPair.generate(.ec(.secp256r1))
        let request = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "a.example"), key: key, role: .leaf)
        let certificate = try LocalSigner.selfSign(
            request: request, key: key, role: .leaf, policy: SigningPolicy(validityDays: 10), now: Date())
        let cert = try CertificatePEM.encode(certificate)
        let csr = try CertificateRequestBuilder.pem(request)
        let valid = [
            cert, cert + csr, "# comment\n" + cert.replacingOccurrences(of: "\n", with: "\r\n"),
            "text before\n  " + cert + "text after\n",
            cert.replacingOccurrences(of: "-----\n", with: "-----\nProc-Type: 4,ENCRYPTED\n", options: .anchored),
        ]
        for text in valid {
            let bytes = Array(text.utf8)
            #expect(try FastFacts.pemBlocks(bytes, file: "f") == PEMBlock.parseAll(bytes, file: "f"))
        }
        let invalid = [
            "", "no pem here", String(cert.prefix(cert.count / 2)),
            cert.replacingOccurrences(of: "END CERT", with: "END CSR"),
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        ]
        for text in invalid {
            let bytes = Array(text.utf8)
            var expected: String?
            do { _ = try PEMBlock.parseAll(bytes, file: "f") } catch { expected = "\(error)" }
            var got: String?
            do { _ = try FastFacts.pemBlocks(bytes, file: "f") } catch { got = "\(error)" }
            #expect(expected != nil && got == expected, "\(text.prefix(40))")
        }
    }

    @Test(
        "certificate facts: leaf, CA, self-signed, RSA, Ed25519",
        arguments: [
            KeySpec.ec(.secp384r1), .rsa(bits: 2048), .ed25519,
        ])
    func certificateFacts(spec: KeySpec) throws {
        let key = try KeyPair.generate(spec)
        let request = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "a.example", subjectAlternativeNames: ["b.example", "10.0.0.1"]),
            key: key,
            role: .certificateAuthority)
        let root = try LocalSigner.selfSign(
            request: request, key: key, role: .certificateAuthority, policy: SigningPolicy(validityDays: 10),
            now: Date())
        let signer = try LocalSigner(certificate: root, key: key, policy: SigningPolicy(validityDays: 5))
        let leafKey = try KeyPair.generate(.ec(.secp256r1))
        let leafRequest = try CertificateRequestBuilder.make(
            subject: SubjectFields(commonName: "c.example"), key: leafKey, role: .leaf)
        let leaf = try signer.sign(request: leafRequest, role: .leaf, now: Date())
        for certificate in [root, leaf] {
            let der = try CertificatePEM.der(certificate)
            #expect(try FastFacts.certificateFacts(certificate, der: der) == CertificateFacts(certificate))
        }
        let csrDER = try #require(
            try PEMBlock.parseAll(Array(try CertificateRequestBuilder.pem(request).utf8), file: "f").first
        ).derBytes
        #expect(try FastFacts.requestSPKI(der: csrDER) == request.publicKey.spkiDER())
    }
}
