import SSLMCore

/// A secret string (an EAB HMAC key): usable by code that needs it, never printed, logged or encoded.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// One table of `ca-info.conf`: a certificate authority services can name in `signing_ca`.
public struct CertificateAuthority: Sendable, Hashable {
    /// How the CA issues.
    public enum Kind: Sendable, Hashable {
        /// A CA whose key and certificate sslm keeps itself under `certs/ca/<name>` (ca_type `self` or
        /// `local`); its settings are the service file `conf.d/ca/<name>`.
        case local
        /// An RFC 8555 ACME CA (`letsencrypt`, `certbot` or `acme`).
        case acme(ACMESettings)
    }

    public var name: String
    public var description: String
    /// The `ca_type` as written (lowercased).
    public var type: String
    public var kind: Kind

    public var isLocal: Bool { if case .local = kind { true } else { false } }
    public var acme: ACMESettings? { if case .acme(let settings) = kind { settings } else { nil } }
    /// The service that holds a local CA's key and certificate.
    public var localAddress: ServiceAddress { ServiceAddress(group: GroupConfig.caGroup, service: name) }
}

/// ACME settings of a CA.
public struct ACMESettings: Sendable, Hashable {
    /// The challenge type (`ca_validation`); defined in SSLMCore because plan ids name it.
    public typealias Validation = ACMEChallengeType

    public var validation: Validation
    /// CN of the root of the preferred alternate chain ('' = the server's default chain).
    public var preferredChain: String?
    /// `ca_preferred_acme_profile`: the ACME profile an order asks for.
    public var preferredProfile: ACMEProfileChoice
    public var directoryURL: String
    /// Directory used with `--test`; nil when the CA has no staging environment.
    public var stagingDirectoryURL: String?
    /// PEM bundle trusted for the CA's HTTPS (absolute path); nil = the system trust store.
    public var trustFile: String?
    public var externalAccountKeyID: String?
    public var externalAccountHMACKey: Secret?

    public static let letsEncryptProduction = "https://acme-v02.api.letsencrypt.org/directory"
    public static let letsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"
}

/// `ca_preferred_acme_profile`: which ACME profile (draft-ietf-acme-profiles) an order asks for. Only CAs
/// that list profiles in their directory receive one.
public enum ACMEProfileChoice: Sendable, Hashable, CustomStringConvertible {
    /// The key is absent: `tlsserver` when the CA lists it, else no profile.
    case tlsServerIfOffered
    /// `''`: no profile.
    case noProfile
    /// A name: that profile; an order to a CA that lists profiles without it fails.
    case named(String)

    public var description: String {
        switch self {
        case .tlsServerIfOffered: "tlsserver if the CA lists it"
        case .noProfile: "no profile"
        case .named(let name): name
        }
    }
}
