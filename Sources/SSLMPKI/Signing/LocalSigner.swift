import Crypto
import Foundation
import SSLMCore
import SwiftASN1
import X509

/// A local certificate authority: issues certificates from CSRs, as ssl-mgr's self/local CAs do
/// (spec §7.3), without its bugs.
///
/// Guarantees for every certificate it issues: subject and public key from the (signature-checked)
/// CSR; SANs from the CSR's extension request; notBefore = `now` (whole seconds), notAfter = notBefore +
/// `policy.validityDays`; a random positive 127-bit serial; signature with the policy's digest (Ed25519
/// signers use Ed25519); BasicConstraints/KeyUsage/EKU by `CertificateRole`; SubjectKeyIdentifier of the
/// subject key and **AuthorityKeyIdentifier = the issuer's SubjectKeyIdentifier**. CSR extensions other
/// than the names are not copied. It does not cap a leaf's validity at the issuer's notAfter and does not
/// keep any state (serials are random, no database).
public struct LocalSigner: Sendable {
    /// The CA certificate whose subject becomes the issuer.
    public let certificate: Certificate
    /// The CA key.
    public let key: KeyPair
    /// Validity and digest from the CA's `[CA]` section.
    public let policy: SigningPolicy

    /// A signer for an existing CA. Throws `.keyMismatch` when the key is not the certificate's, and
    /// `.invalidArgument` when the certificate is not a CA (BasicConstraints CA:TRUE).
    public init(certificate: Certificate, key: KeyPair, policy: SigningPolicy) throws {
        guard key.matches(certificate.publicKey) else {
            throw SSLMError(.keyMismatch, "the CA private key does not belong to the CA certificate")
        }
        let constraints = try? certificate.extensions.basicConstraints
        guard case .isCertificateAuthority = constraints else {
            throw SSLMError(
                .invalidArgument,
                "\(Self.subjectText(certificate)) is not a CA certificate (BasicConstraints CA:TRUE missing)")
        }
        self.certificate = certificate
        self.key = key
        self.policy = policy
    }

    /// Loads a CA from its `privkey.pem` and `cert.pem`.
    public init(keyPath: String, certificatePath: String, policy: SigningPolicy) throws {
        let key = try KeyPair.read(path: keyPath)
        guard let certificate = try CertificatePEM.read(path: certificatePath).first else {
            throw SSLMError(.malformedInput, "\(certificatePath): no certificate")
        }
        do {
            try self.init(certificate: certificate, key: key, policy: policy)
        } catch let error as SSLMError {
            throw SSLMError(error.code, "\(certificatePath): \(error.message)")
        }
    }

    /// Issues a certificate for `request`.
    public func sign(request: CertificateSigningRequest, role: CertificateRole, now: Date) throws -> Certificate {
        let issuerKeyID: ArraySlice<UInt8>
        if let ski = try? certificate.extensions.subjectKeyIdentifier {
            issuerKeyID = ski.keyIdentifier
        } else {
            issuerKeyID = SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        }
        return try Self.issue(
            request: request, role: role, issuer: certificate.subject, issuerKey: key, issuerKeyID: issuerKeyID,
            policy: policy, now: now)
    }

    /// A self-signed certificate (a root CA, or a self-signed leaf when `signing_ca` is `self`): issuer =
    /// subject, signed with the request's own key, validity and digest from the service's own `[CA]`.
    public static func selfSign(
        request: CertificateSigningRequest, key: KeyPair, role: CertificateRole, policy: SigningPolicy, now: Date
    ) throws -> Certificate {
        guard key.matches(request.publicKey) else {
            throw SSLMError(.keyMismatch, "the private key does not belong to the certificate request")
        }
        let ownKeyID = SubjectKeyIdentifier(hash: request.publicKey).keyIdentifier
        return try issue(
            request: request, role: role, issuer: request.subject, issuerKey: key, issuerKeyID: ownKeyID,
            policy: policy, now: now)
    }

    /// A random positive serial number: 16 bytes, top bit clear, first byte non-zero (127 bits).
    public static func randomSerial() -> Certificate.SerialNumber {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] = (bytes[0] & 0x7F) | 0x40
        return Certificate.SerialNumber(bytes: bytes)
    }

    private static func issue(
        request: CertificateSigningRequest, role: CertificateRole, issuer: DistinguishedName, issuerKey: KeyPair,
        issuerKeyID: ArraySlice<UInt8>, policy: SigningPolicy, now: Date
    ) throws -> Certificate {
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw SSLMError(.verificationFailed, "the certificate request's signature is invalid")
        }
        var names: [AlternativeName] = []
        do {
            if let requested = try request.attributes.extensionRequest?.extensions.subjectAlternativeNames {
                names = requested.compactMap(AlternativeName.init(generalName:))
            }
        } catch {
            throw SSLMError(
                .malformedInput, "the certificate request's extensions cannot be decoded", underlying: error)
        }
        let extensions = try ExtensionProfile.extensions(
            role: role, subjectKey: request.publicKey, authorityKeyIdentifier: issuerKeyID, names: names)
        let notBefore = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let notAfter = notBefore.addingTimeInterval(TimeInterval(policy.validityDays) * 86_400)
        do {
            return try Certificate(
                version: .v3, serialNumber: randomSerial(), publicKey: request.publicKey, notValidBefore: notBefore,
                notValidAfter: notAfter, issuer: issuer, subject: request.subject,
                signatureAlgorithm: ExtensionProfile.signatureAlgorithm(signer: issuerKey.spec, digest: policy.digest),
                extensions: extensions, issuerPrivateKey: issuerKey.privateKey)
        } catch {
            throw SSLMError(.cryptoFailure, "signing the certificate failed", underlying: error)
        }
    }

    static func subjectText(_ certificate: Certificate) -> String {
        DistinguishedNameText.rfc4514(certificate.subject)
    }
}
