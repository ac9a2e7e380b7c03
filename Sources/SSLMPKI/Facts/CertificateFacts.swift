import Crypto
import Foundation
import SSLMCore
import SwiftASN1
import X509

extension CertificateFacts {
    /// The facts of a parsed certificate.
    /// - Parameter der: the bytes `certificate` was decoded from, when the caller has them: the SPKI and
    ///   fingerprint digests are then taken from them instead of re-encoding the certificate (re-encoding
    ///   an EC key converts its point to affine coordinates, a modular inversion per call — observation
    ///   does this for thousands of certificates).
    public init(_ certificate: Certificate, der: [UInt8]? = nil) throws {
        var dns: [String] = []
        var ips: [String] = []
        for name in (try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames() {
            switch AlternativeName(generalName: name) {
            case .dnsName(let value): dns.append(value)
            case .ipAddress(let value): ips.append(value)
            case nil: break
            }
        }
        var isCA = false
        if case .isCertificateAuthority = try? certificate.extensions.basicConstraints { isCA = true }
        self.init(
            notBefore: certificate.notValidBefore,
            notAfter: certificate.notValidAfter,
            serialHex: Hex.encode(certificate.serialNumber.bytes),
            issuer: DistinguishedNameText.rfc4514(certificate.issuer),
            subject: DistinguishedNameText.rfc4514(certificate.subject),
            commonName: DistinguishedNameText.first(.RDNAttributeType.commonName, in: certificate.subject),
            dnsNames: dns,
            ipAddresses: ips,
            keySpec: KeySpec(publicKey: certificate.publicKey),
            publicKeyLabel: PublicKeyLabel.label(certificate.publicKey),
            signatureAlgorithm: SignatureAlgorithmName.name(certificate.signatureAlgorithm),
            isCA: isCA,
            isSelfSigned: certificate.issuer == certificate.subject
                && certificate.publicKey.isValidSignature(certificate.signature, for: certificate),
            spkiSHA256: Hex.encode(
                SHA256.hash(
                    data: try der.map(EmbeddedSPKI.bytes(certificateDER:))
                        ?? certificate.publicKey.spkiDER())),
            certificateSHA256: Hex.encode(SHA256.hash(data: try der ?? CertificatePEM.der(certificate))))
    }

    /// Facts of the first certificate of a PEM file (`cert.pem`, `fullchain.pem`).
    public static func read(path: String) throws -> CertificateFacts {
        guard let first = try CertificatePEM.read(path: path).first else {
            throw SSLMError(.malformedInput, "\(path): no certificate")
        }
        return try CertificateFacts(first)
    }
}

/// ssl-mgr's public key labels.
public enum PublicKeyLabel {
    /// `pubkey-secp384r1`, `pubkey-rsa-4096`, `pubkey-ed25519`, `pubkey-unknown`.
    public static func label(_ key: Certificate.PublicKey) -> String {
        KeySpec(publicKey: key).map { "pubkey-\($0)" } ?? "pubkey-unknown"
    }
}

/// OpenSSL/Python names of signature algorithms (`ecdsa-with-SHA384`, `sha256WithRSAEncryption`, `ED25519`).
public enum SignatureAlgorithmName {
    public static func name(_ algorithm: Certificate.SignatureAlgorithm) -> String {
        switch algorithm {
        case .ecdsaWithSHA256: "ecdsa-with-SHA256"
        case .ecdsaWithSHA384: "ecdsa-with-SHA384"
        case .ecdsaWithSHA512: "ecdsa-with-SHA512"
        case .sha1WithRSAEncryption: "sha1WithRSAEncryption"
        case .sha256WithRSAEncryption: "sha256WithRSAEncryption"
        case .sha384WithRSAEncryption: "sha384WithRSAEncryption"
        case .sha512WithRSAEncryption: "sha512WithRSAEncryption"
        case .ed25519: "ED25519"
        default: String(describing: algorithm)
        }
    }
}

/// Lowercase hex encoding.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var out = ""
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    /// Two lowercase digits per byte, separated by colons (`7b:05:c0`), as `openssl x509 -text` prints
    /// serial numbers and fingerprints.
    public static func colonSeparated(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { encode([$0]) }.joined(separator: ":")
    }
}
