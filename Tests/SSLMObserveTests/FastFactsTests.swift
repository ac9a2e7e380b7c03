import Foundation
import SSLMCore
import SSLMPKI
import Testing
import X509

@testable import SSLMObserve

/// Facts taken from the DER as read (the observer's path) equal those of the re-encoded certificate.
@Suite("Facts from the DER as read agree with the re-encoded ones")
struct FastFactsTests {
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
            #expect(try CertificateFacts(certificate, der: der) == CertificateFacts(certificate))
        }
        let csrDER = try #require(
            try PEMBlock.parseAll(Array(try CertificateRequestBuilder.pem(request).utf8), file: "f").first
        ).derBytes
        #expect(try FastFacts.requestSPKI(der: csrDER) == request.publicKey.spkiDER())
    }
}
