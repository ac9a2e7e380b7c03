import Foundation

/// What sslm remembers about one certificate beyond the certificate itself: which CA issued it (for an
/// ACME CA, which directory and which account), whether the CA refused it as the ARI `replaces` of an
/// order, and whether it was revoked. Kept in `.sslm/certificates.json` (`CertificateLedger`, SSLMObserve),
/// keyed by the SHA-256 of the certificate's DER (`CertificateFacts.certificateSHA256`).
///
/// A certificate sslm did not issue (adopted from ssl-mgr or certbot) has no record: its issuer is then
/// known only from its issuer DN. Not a certificate store: it holds no certificate and no key material.
public struct CertificateRecord: Sendable, Hashable, Codable {
    /// The name of the CA section (`ca-info.conf`) that issued it.
    public var ca: String
    /// The ACME directory URL the certificate was ordered from; nil for a local CA.
    public var directory: String?
    /// The ACME account URL that ordered it; nil for a local CA.
    public var account: String?
    /// When sslm recorded the issuance.
    public var issued: Date?
    /// The CA's answer when it refused this certificate as an order's `replaces` (sslm then orders
    /// without it, and never names this certificate again).
    public var replacesRefused: String?
    /// When the certificate was revoked with `sslm revoke`, and why.
    public var revoked: Revocation?
    /// When the service of this certificate was retired (`retire_service`: it left the config and its
    /// directory went to `certs/.retired/`). A record kept for the archive, of no service.
    public var retired: Date?

    /// A revocation done through sslm.
    public struct Revocation: Sendable, Hashable, Codable {
        public var at: Date
        public var reason: String

        public init(at: Date, reason: String) {
            self.at = at
            self.reason = reason
        }
    }

    enum CodingKeys: String, CodingKey {
        case ca, directory, account, issued, revoked, retired
        case replacesRefused = "replaces_refused"
    }

    public init(
        ca: String, directory: String? = nil, account: String? = nil, issued: Date? = nil,
        replacesRefused: String? = nil, revoked: Revocation? = nil
    ) {
        self.ca = ca
        self.directory = directory
        self.account = account
        self.issued = issued
        self.replacesRefused = replacesRefused
        self.revoked = revoked
    }

    /// The key of the ACME account map of an observation: the directory URL and the contact email.
    public static func accountKey(directory: String, email: String) -> String { directory + " " + email }
}
