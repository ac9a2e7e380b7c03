import Foundation

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

    /// Lifetime in days, exactly (the `L` of `[renew_info]`).
    public var lifetime: Double { notAfter.timeIntervalSince(notBefore) / 86_400 }

    public init(
        notBefore: Date, notAfter: Date, serialHex: String, issuer: String, subject: String,
        commonName: String?, dnsNames: [String], ipAddresses: [String], keySpec: KeySpec?,
        publicKeyLabel: String, signatureAlgorithm: String, isCA: Bool, isSelfSigned: Bool,
        spkiSHA256: String, certificateSHA256: String
    ) {
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.serialHex = serialHex
        self.issuer = issuer
        self.subject = subject
        self.commonName = commonName
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.keySpec = keySpec
        self.publicKeyLabel = publicKeyLabel
        self.signatureAlgorithm = signatureAlgorithm
        self.isCA = isCA
        self.isSelfSigned = isSelfSigned
        self.spkiSHA256 = spkiSHA256
        self.certificateSHA256 = certificateSHA256
    }
}
