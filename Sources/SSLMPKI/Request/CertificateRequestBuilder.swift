import Crypto
import SSLMCore
import SwiftASN1
import X509

/// Builds PKCS#10 certificate signing requests (spec §7.2, without ssl-mgr's quirks).
///
/// Guarantees: subject from `SubjectFields` (non-empty attributes only), SAN list with the CN first,
/// an extension request with BasicConstraints, KeyUsage, EKU (leaves), SubjectKeyIdentifier and SAN —
/// no AuthorityKeyIdentifier (a request has no authority yet) — and a signature whose hash matches the
/// key (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512, RSA by size, Ed25519). ACME CAs ignore all
/// extensions but the names; local signing re-derives them (see `LocalSigner`).
public enum CertificateRequestBuilder {
    /// A signed CSR for `key`.
    public static func make(subject: SubjectFields, key: KeyPair, role: CertificateRole) throws
        -> CertificateSigningRequest
    {
        let dn = try subject.distinguishedName()
        let names = try subject.alternativeNames()
        let extensions = try ExtensionProfile.extensions(
            role: role, subjectKey: key.publicKey, authorityKeyIdentifier: nil, names: names)
        do {
            var attributes = CertificateSigningRequest.Attributes()
            attributes.insert(try CertificateSigningRequest.Attribute(ExtensionRequest(extensions: extensions)))
            let algorithm = ExtensionProfile.signatureAlgorithm(
                signer: key.spec, digest: ExtensionProfile.matchedDigest(for: key.spec))
            return try CertificateSigningRequest(
                version: .v1, subject: dn, privateKey: key.privateKey, attributes: attributes,
                signatureAlgorithm: algorithm)
        } catch {
            throw SSLMError(.cryptoFailure, "cannot build the certificate signing request", underlying: error)
        }
    }

    /// PEM text of a CSR (`BEGIN CERTIFICATE REQUEST`).
    public static func pem(_ request: CertificateSigningRequest) throws -> String {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(request)
            return PEMBlock(label: "CERTIFICATE REQUEST", derBytes: serializer.serializedBytes).pemText
        } catch {
            throw SSLMError(.cryptoFailure, "cannot encode the certificate signing request", underlying: error)
        }
    }

    /// Reads a CSR from PEM text, checking its self-signature. `file` names the source in errors.
    public static func parse(pem: String, file: String) throws -> CertificateSigningRequest {
        let blocks = try PEMBlock.parseAll(Array(pem.utf8), file: file)
        guard let block = blocks.first(where: { $0.label.contains("REQUEST") }) else {
            throw SSLMError(.malformedInput, "\(file): no CERTIFICATE REQUEST block found")
        }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(derEncoded: block.derBytes)
        } catch {
            throw SSLMError(.malformedInput, "\(file): cannot decode the certificate request", underlying: error)
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw SSLMError(.verificationFailed, "\(file): the certificate request's signature is invalid")
        }
        return request
    }
}
