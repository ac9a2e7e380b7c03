import Crypto
import SSLMCore
import SwiftASN1
import X509

/// The extensions sslm puts into CSRs and locally signed certificates, derived from the role, the
/// subject key, the issuer key and the names. One place, so CSRs and certificates agree.
enum ExtensionProfile {
    static func keyUsage(role: CertificateRole, keySpec: KeySpec) -> KeyUsage {
        switch role {
        case .certificateAuthority:
            return KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true)
        case .leaf:
            switch keySpec {
            case .rsa: return KeyUsage(digitalSignature: true, keyEncipherment: true)
            case .ec: return KeyUsage(digitalSignature: true, keyAgreement: true)
            case .ed25519: return KeyUsage(digitalSignature: true)
            }
        }
    }

    static let leafUsages: [ExtendedKeyUsage.Usage] = [
        .serverAuth, .clientAuth, .emailProtection, .codeSigning, .timeStamping,
    ]

    /// BasicConstraints, KeyUsage, EKU (leaf), SKI, [AKI], SAN (when names are given).
    static func extensions(
        role: CertificateRole, subjectKey: Certificate.PublicKey, authorityKeyIdentifier: ArraySlice<UInt8>?,
        names: [AlternativeName]
    ) throws -> Certificate.Extensions {
        guard let keySpec = KeySpec(publicKey: subjectKey) else {
            throw SSLMError(.unsupported, "unsupported subject public key type")
        }
        var extensions = Certificate.Extensions()
        do {
            switch role {
            case .certificateAuthority:
                try extensions.append(
                    Certificate.Extension(BasicConstraints.isCertificateAuthority(maxPathLength: nil), critical: true))
            case .leaf:
                try extensions.append(Certificate.Extension(BasicConstraints.notCertificateAuthority, critical: true))
            }
            try extensions.append(
                Certificate.Extension(keyUsage(role: role, keySpec: keySpec), critical: true))
            if role == .leaf {
                try extensions.append(Certificate.Extension(try ExtendedKeyUsage(leafUsages), critical: false))
            }
            try extensions.append(
                Certificate.Extension(SubjectKeyIdentifier(hash: subjectKey), critical: false))
            if let authorityKeyIdentifier {
                try extensions.append(
                    Certificate.Extension(
                        AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier), critical: false))
            }
            if !names.isEmpty {
                try extensions.append(
                    Certificate.Extension(SubjectAlternativeNames(names.map(\.generalName)), critical: false))
            }
        } catch let error as SSLMError {
            throw error
        } catch {
            throw SSLMError(.cryptoFailure, "cannot encode certificate extensions", underlying: error)
        }
        return extensions
    }

    /// The signature algorithm for a signer key and a requested digest. Ed25519 has its own fixed hash.
    static func signatureAlgorithm(signer: KeySpec, digest: DigestAlgorithm) -> Certificate.SignatureAlgorithm {
        switch (signer, digest) {
        case (.ed25519, _): return .ed25519
        case (.ec, .sha256): return .ecdsaWithSHA256
        case (.ec, .sha384): return .ecdsaWithSHA384
        case (.ec, .sha512): return .ecdsaWithSHA512
        case (.rsa, .sha256): return .sha256WithRSAEncryption
        case (.rsa, .sha384): return .sha384WithRSAEncryption
        case (.rsa, .sha512): return .sha512WithRSAEncryption
        }
    }

    /// The hash matched to a key's strength: P-256 → SHA-256, P-384 → SHA-384, P-521 → SHA-512;
    /// RSA below 3072 → SHA-256, below 7680 → SHA-384, else SHA-512 (NIST SP 800-57 equivalences).
    static func matchedDigest(for key: KeySpec) -> DigestAlgorithm {
        switch key {
        case .ec(.secp256r1): return .sha256
        case .ec(.secp384r1): return .sha384
        case .ec(.secp521r1): return .sha512
        case .rsa(let bits): return bits < 3072 ? .sha256 : (bits < 7680 ? .sha384 : .sha512)
        case .ed25519: return .sha512
        }
    }
}
