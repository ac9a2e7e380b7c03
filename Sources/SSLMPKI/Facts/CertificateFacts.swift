import Crypto
import Foundation
import SSLMCore
import SwiftASN1
import X509

/// What sslm needs to know about a certificate to observe, plan and report: validity, serial, names,
/// key type, fingerprints. A plain value (Sendable, Codable), so observation can store it and the planner
/// can compare it without touching X.509.
///
/// Guarantees: hex strings are lowercase; `spkiSHA256` is over the DER SubjectPublicKeyInfo (TLSA 3 1 1
/// data); `sans` lists DNS names then IP addresses, in certificate order. Not a validation result: nothing
/// here says the certificate is trusted.
public struct CertificateFacts: Sendable, Hashable, Codable {
    public var notBefore: Date
    public var notAfter: Date
    /// Serial number, lowercase hex without separators.
    public var serialHex: String
    /// RFC 4514 text of the issuer and subject.
    public var issuer: String
    public var subject: String
    public var commonName: String?
    public var dnsNames: [String]
    public var ipAddresses: [String]
    /// The key type; nil for a type sslm cannot generate.
    public var keySpec: KeySpec?
    /// `pubkey-secp384r1`, `pubkey-rsa-4096`, …
    public var publicKeyLabel: String
    /// e.g. `ecdsa-with-SHA384`.
    public var signatureAlgorithm: String
    public var isCA: Bool
    /// Issuer name equals subject name and the certificate's own key verifies its signature.
    public var isSelfSigned: Bool
    /// SHA-256 of the DER SubjectPublicKeyInfo.
    public var spkiSHA256: String
    /// SHA-256 of the whole DER certificate (its fingerprint).
    public var certificateSHA256: String

    /// All SANs: DNS names then IP addresses.
    public var sans: [String] { dnsNames + ipAddresses }

    /// Lifetime in days, rounded (what ssl-mgr calls the "N day cert").
    public var lifetimeDays: Int { Int(((notAfter.timeIntervalSince(notBefore)) / 86_400).rounded()) }

    public init(_ certificate: Certificate) throws {
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
        serialHex = certificate.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
        issuer = DistinguishedNameText.rfc4514(certificate.issuer)
        subject = DistinguishedNameText.rfc4514(certificate.subject)
        commonName = DistinguishedNameText.first(.RDNAttributeType.commonName, in: certificate.subject)
        var dns: [String] = []
        var ips: [String] = []
        for name in (try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames() {
            switch AlternativeName(generalName: name) {
            case .dnsName(let value): dns.append(value)
            case .ipAddress(let value): ips.append(value)
            case nil: break
            }
        }
        dnsNames = dns
        ipAddresses = ips
        keySpec = KeySpec(publicKey: certificate.publicKey)
        publicKeyLabel = PublicKeyLabel.label(certificate.publicKey)
        signatureAlgorithm = SignatureAlgorithmName.name(certificate.signatureAlgorithm)
        if case .isCertificateAuthority = try? certificate.extensions.basicConstraints {
            isCA = true
        } else {
            isCA = false
        }
        isSelfSigned =
            certificate.issuer == certificate.subject
            && certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        spkiSHA256 = Hex.encode(SHA256.hash(data: try certificate.publicKey.spkiDER()))
        certificateSHA256 = Hex.encode(SHA256.hash(data: try CertificatePEM.der(certificate)))
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
}
