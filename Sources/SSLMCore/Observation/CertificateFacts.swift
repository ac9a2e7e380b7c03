import Foundation

/// What sslm needs to know about a certificate to observe, plan and report: validity, serial, names,
/// key type, fingerprints. A plain value (Sendable, Codable), so observation can store it and the planner
/// can compare it without touching X.509.
///
/// Guarantees: hex strings are lowercase; `spkiSHA256` is over the DER SubjectPublicKeyInfo (TLSA 3 1 1
/// data); `sans` lists DNS names then IP addresses, in certificate order. Not a validation result: nothing
/// here says the certificate is trusted.
public struct CertificateFacts: Sendable, Hashable, Codable {
    /// The fields, in one shared object: copying `CertificateFacts` (every read of `DBDirState.certificate`)
    /// retains it alone instead of each string and array. Mutation copies it first when it is shared
    /// (copy-on-write). Equality, hashing and the Codable form are those of the fields.
    private final class Storage: @unchecked Sendable {
        var notBefore: Date
        var notAfter: Date
        var serialHex: String
        var issuer: String
        var subject: String
        var commonName: String?
        var dnsNames: [String]
        var ipAddresses: [String]
        var keySpec: KeySpec?
        var publicKeyLabel: String
        var signatureAlgorithm: String
        var isCA: Bool
        var isSelfSigned: Bool
        var spkiSHA256: String
        var certificateSHA256: String

        init(
            notBefore: Date, notAfter: Date, serialHex: String, issuer: String, subject: String, commonName: String?,
            dnsNames: [String], ipAddresses: [String], keySpec: KeySpec?, publicKeyLabel: String,
            signatureAlgorithm: String, isCA: Bool, isSelfSigned: Bool, spkiSHA256: String, certificateSHA256: String
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

        func copy() -> Storage {
            Storage(
                notBefore: notBefore, notAfter: notAfter, serialHex: serialHex, issuer: issuer, subject: subject,
                commonName: commonName, dnsNames: dnsNames, ipAddresses: ipAddresses, keySpec: keySpec,
                publicKeyLabel: publicKeyLabel, signatureAlgorithm: signatureAlgorithm, isCA: isCA,
                isSelfSigned: isSelfSigned, spkiSHA256: spkiSHA256, certificateSHA256: certificateSHA256)
        }
    }

    private var storage: Storage

    /// Makes `storage` this value's own before a mutation (copy-on-write).
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    public var notBefore: Date {
        get { storage.notBefore }
        _modify {
            makeUnique()
            yield &storage.notBefore
        }
    }
    public var notAfter: Date {
        get { storage.notAfter }
        _modify {
            makeUnique()
            yield &storage.notAfter
        }
    }
    /// Serial number, lowercase hex without separators.
    public var serialHex: String {
        get { storage.serialHex }
        _modify {
            makeUnique()
            yield &storage.serialHex
        }
    }
    /// RFC 4514 text of the issuer and subject.
    public var issuer: String {
        get { storage.issuer }
        _modify {
            makeUnique()
            yield &storage.issuer
        }
    }
    public var subject: String {
        get { storage.subject }
        _modify {
            makeUnique()
            yield &storage.subject
        }
    }
    public var commonName: String? {
        get { storage.commonName }
        _modify {
            makeUnique()
            yield &storage.commonName
        }
    }
    public var dnsNames: [String] {
        get { storage.dnsNames }
        _modify {
            makeUnique()
            yield &storage.dnsNames
        }
    }
    public var ipAddresses: [String] {
        get { storage.ipAddresses }
        _modify {
            makeUnique()
            yield &storage.ipAddresses
        }
    }
    /// The key type; nil for a type sslm cannot generate.
    public var keySpec: KeySpec? {
        get { storage.keySpec }
        _modify {
            makeUnique()
            yield &storage.keySpec
        }
    }
    /// `pubkey-secp384r1`, `pubkey-rsa-4096`, …
    public var publicKeyLabel: String {
        get { storage.publicKeyLabel }
        _modify {
            makeUnique()
            yield &storage.publicKeyLabel
        }
    }
    /// e.g. `ecdsa-with-SHA384`.
    public var signatureAlgorithm: String {
        get { storage.signatureAlgorithm }
        _modify {
            makeUnique()
            yield &storage.signatureAlgorithm
        }
    }
    public var isCA: Bool {
        get { storage.isCA }
        _modify {
            makeUnique()
            yield &storage.isCA
        }
    }
    /// Issuer name equals subject name and the certificate's own key verifies its signature.
    public var isSelfSigned: Bool {
        get { storage.isSelfSigned }
        _modify {
            makeUnique()
            yield &storage.isSelfSigned
        }
    }
    /// SHA-256 of the DER SubjectPublicKeyInfo.
    public var spkiSHA256: String {
        get { storage.spkiSHA256 }
        _modify {
            makeUnique()
            yield &storage.spkiSHA256
        }
    }
    /// SHA-256 of the whole DER certificate (its fingerprint).
    public var certificateSHA256: String {
        get { storage.certificateSHA256 }
        _modify {
            makeUnique()
            yield &storage.certificateSHA256
        }
    }

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
        storage = Storage(
            notBefore: notBefore, notAfter: notAfter, serialHex: serialHex, issuer: issuer, subject: subject,
            commonName: commonName, dnsNames: dnsNames, ipAddresses: ipAddresses, keySpec: keySpec,
            publicKeyLabel: publicKeyLabel, signatureAlgorithm: signatureAlgorithm, isCA: isCA,
            isSelfSigned: isSelfSigned, spkiSHA256: spkiSHA256, certificateSHA256: certificateSHA256)
    }

    private enum CodingKeys: String, CodingKey {
        case notBefore, notAfter, serialHex, issuer, subject, commonName, dnsNames, ipAddresses, keySpec,
            publicKeyLabel, signatureAlgorithm, isCA, isSelfSigned, spkiSHA256, certificateSHA256
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            notBefore: try container.decode(Date.self, forKey: .notBefore),
            notAfter: try container.decode(Date.self, forKey: .notAfter),
            serialHex: try container.decode(String.self, forKey: .serialHex),
            issuer: try container.decode(String.self, forKey: .issuer),
            subject: try container.decode(String.self, forKey: .subject),
            commonName: try container.decodeIfPresent(String.self, forKey: .commonName),
            dnsNames: try container.decode([String].self, forKey: .dnsNames),
            ipAddresses: try container.decode([String].self, forKey: .ipAddresses),
            keySpec: try container.decodeIfPresent(KeySpec.self, forKey: .keySpec),
            publicKeyLabel: try container.decode(String.self, forKey: .publicKeyLabel),
            signatureAlgorithm: try container.decode(String.self, forKey: .signatureAlgorithm),
            isCA: try container.decode(Bool.self, forKey: .isCA),
            isSelfSigned: try container.decode(Bool.self, forKey: .isSelfSigned),
            spkiSHA256: try container.decode(String.self, forKey: .spkiSHA256),
            certificateSHA256: try container.decode(String.self, forKey: .certificateSHA256))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(notBefore, forKey: .notBefore)
        try container.encode(notAfter, forKey: .notAfter)
        try container.encode(serialHex, forKey: .serialHex)
        try container.encode(issuer, forKey: .issuer)
        try container.encode(subject, forKey: .subject)
        try container.encodeIfPresent(commonName, forKey: .commonName)
        try container.encode(dnsNames, forKey: .dnsNames)
        try container.encode(ipAddresses, forKey: .ipAddresses)
        try container.encodeIfPresent(keySpec, forKey: .keySpec)
        try container.encode(publicKeyLabel, forKey: .publicKeyLabel)
        try container.encode(signatureAlgorithm, forKey: .signatureAlgorithm)
        try container.encode(isCA, forKey: .isCA)
        try container.encode(isSelfSigned, forKey: .isSelfSigned)
        try container.encode(spkiSHA256, forKey: .spkiSHA256)
        try container.encode(certificateSHA256, forKey: .certificateSHA256)
    }

    public static func == (lhs: CertificateFacts, rhs: CertificateFacts) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.notBefore == rhs.notBefore
            && lhs.notAfter == rhs.notAfter
            && lhs.serialHex == rhs.serialHex
            && lhs.issuer == rhs.issuer
            && lhs.subject == rhs.subject
            && lhs.commonName == rhs.commonName
            && lhs.dnsNames == rhs.dnsNames
            && lhs.ipAddresses == rhs.ipAddresses
            && lhs.keySpec == rhs.keySpec
            && lhs.publicKeyLabel == rhs.publicKeyLabel
            && lhs.signatureAlgorithm == rhs.signatureAlgorithm
            && lhs.isCA == rhs.isCA
            && lhs.isSelfSigned == rhs.isSelfSigned
            && lhs.spkiSHA256 == rhs.spkiSHA256
            && lhs.certificateSHA256 == rhs.certificateSHA256
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(notBefore)
        hasher.combine(notAfter)
        hasher.combine(serialHex)
        hasher.combine(issuer)
        hasher.combine(subject)
        hasher.combine(commonName)
        hasher.combine(dnsNames)
        hasher.combine(ipAddresses)
        hasher.combine(keySpec)
        hasher.combine(publicKeyLabel)
        hasher.combine(signatureAlgorithm)
        hasher.combine(isCA)
        hasher.combine(isSelfSigned)
        hasher.combine(spkiSHA256)
        hasher.combine(certificateSHA256)
    }
}
