import SSLMCore

/// One service file `conf.d/<group>/<service>`: what certificate to make and how.
public struct ServiceConfig: Sendable, Hashable {
    /// Who signs the certificate.
    public enum Signer: Sendable, Hashable, CustomStringConvertible {
        /// `signing_ca = 'self'` or `''`: the certificate signs itself (validity and digest from its own `[CA]`).
        case selfSigned
        /// A CA of ca-info.conf (local or ACME).
        case authority(String)

        public var description: String {
            switch self {
            case .selfSigned: "self"
            case .authority(let name): name
            }
        }
    }

    public var address: ServiceAddress
    /// The file as shown in messages (`conf.d/<group>/<service>`).
    public var file: String
    /// `name`: free text.
    public var name: String
    public var signer: Signer
    public var dane: [DANESpec]
    /// TTL of TLSA records; nil when `dane_tls_ttl` ≤ 0 (no TTL field).
    public var daneTTL: Int?
    public var key: KeySpec
    public var subject: X509Settings
    /// SANs in order, the CN first.
    public var sans: [String]
    /// `[CA]`: present in CA and self-signed services.
    public var signing: SigningSettings?
    /// The renewal function for this service (global `[renew_info]`, or the 6.x per-service override).
    public var renewInfo: RenewInfo
    /// `check_endpoints` (sslm): the TLS endpoints `sslm check` probes for this service, in file order;
    /// nil when the key is absent (a web service then gets its SANs on 443, `Config.checkEndpoints(for:)`),
    /// `[]` when it is written empty (nothing to probe).
    public var checkEndpoints: [CheckEndpoint]? = nil

    public static let defaultDANETTL = 1800
}

/// `[X509]` subject attributes (the SANs are `ServiceConfig.sans`). Empty strings mean "absent" and are left out of the certificate subject.
public struct X509Settings: Sendable, Hashable {
    public var commonName: String
    public var organization: String
    public var organizationalUnit: String = ""
    public var locality: String = ""
    public var state: String = ""
    public var country: String
    /// Contact email (also the ACME account contact).
    public var email: String = ""

    public init(
        commonName: String, organization: String, organizationalUnit: String = "", locality: String = "",
        state: String = "", country: String, email: String = ""
    ) {
        self.commonName = commonName
        self.organization = organization
        self.organizationalUnit = organizationalUnit
        self.locality = locality
        self.state = state
        self.country = country
        self.email = email
    }
}

/// `[CA]` of a signing service: validity of the certificates it signs and their signature hash.
public struct SigningSettings: Sendable, Hashable {
    public var validityDays: Int
    public var digest: DigestAlgorithm

    public init(validityDays: Int, digest: DigestAlgorithm) {
        self.validityDays = validityDays
        self.digest = digest
    }
}
