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

    /// The fields, in one shared object: copying a `ServiceConfig` (`Config.service(_:)` hands out copies,
    /// several per service and plan) retains it alone instead of every string and array of the service.
    /// Mutation copies it first when it is shared (copy-on-write), so `ServiceConfig` stays a value.
    private final class Storage: @unchecked Sendable {
        var address: ServiceAddress
        var file: String
        var name: String
        var signer: Signer
        var dane: [DANESpec]
        var daneTTL: Int?
        var key: KeySpec
        var subject: X509Settings
        var sans: [String]
        var signing: SigningSettings?
        var renewInfo: RenewInfo
        var checkEndpoints: [CheckEndpoint]?

        init(
            address: ServiceAddress, file: String, name: String, signer: Signer, dane: [DANESpec], daneTTL: Int?,
            key: KeySpec, subject: X509Settings, sans: [String], signing: SigningSettings?, renewInfo: RenewInfo,
            checkEndpoints: [CheckEndpoint]?
        ) {
            self.address = address
            self.file = file
            self.name = name
            self.signer = signer
            self.dane = dane
            self.daneTTL = daneTTL
            self.key = key
            self.subject = subject
            self.sans = sans
            self.signing = signing
            self.renewInfo = renewInfo
            self.checkEndpoints = checkEndpoints
        }

        func copy() -> Storage {
            Storage(
                address: address, file: file, name: name, signer: signer, dane: dane, daneTTL: daneTTL, key: key,
                subject: subject, sans: sans, signing: signing, renewInfo: renewInfo, checkEndpoints: checkEndpoints)
        }
    }

    private var storage: Storage

    /// Makes `storage` this value's own before a mutation (copy-on-write).
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    public init(
        address: ServiceAddress, file: String, name: String, signer: Signer, dane: [DANESpec], daneTTL: Int?,
        key: KeySpec, subject: X509Settings, sans: [String], signing: SigningSettings?, renewInfo: RenewInfo,
        checkEndpoints: [CheckEndpoint]? = nil
    ) {
        storage = Storage(
            address: address, file: file, name: name, signer: signer, dane: dane, daneTTL: daneTTL, key: key,
            subject: subject, sans: sans, signing: signing, renewInfo: renewInfo, checkEndpoints: checkEndpoints)
    }

    public var address: ServiceAddress {
        get { storage.address }
        _modify {
            makeUnique()
            yield &storage.address
        }
    }
    /// The file as shown in messages (`conf.d/<group>/<service>`).
    public var file: String {
        get { storage.file }
        _modify {
            makeUnique()
            yield &storage.file
        }
    }
    /// `name`: free text.
    public var name: String {
        get { storage.name }
        _modify {
            makeUnique()
            yield &storage.name
        }
    }
    public var signer: Signer {
        get { storage.signer }
        _modify {
            makeUnique()
            yield &storage.signer
        }
    }
    public var dane: [DANESpec] {
        get { storage.dane }
        _modify {
            makeUnique()
            yield &storage.dane
        }
    }
    /// TTL of TLSA records; nil when `dane_tls_ttl` ≤ 0 (no TTL field).
    public var daneTTL: Int? {
        get { storage.daneTTL }
        _modify {
            makeUnique()
            yield &storage.daneTTL
        }
    }
    public var key: KeySpec {
        get { storage.key }
        _modify {
            makeUnique()
            yield &storage.key
        }
    }
    public var subject: X509Settings {
        get { storage.subject }
        _modify {
            makeUnique()
            yield &storage.subject
        }
    }
    /// SANs in order, the CN first.
    public var sans: [String] {
        get { storage.sans }
        _modify {
            makeUnique()
            yield &storage.sans
        }
    }
    /// `[CA]`: present in CA and self-signed services.
    public var signing: SigningSettings? {
        get { storage.signing }
        _modify {
            makeUnique()
            yield &storage.signing
        }
    }
    /// The renewal function for this service (global `[renew_info]`, or the 6.x per-service override).
    public var renewInfo: RenewInfo {
        get { storage.renewInfo }
        _modify {
            makeUnique()
            yield &storage.renewInfo
        }
    }
    /// `check_endpoints` (sslm): the TLS endpoints `sslm check` probes for this service, in file order;
    /// nil when the key is absent (a web service then gets its SANs on 443, `Config.checkEndpoints(for:)`),
    /// `[]` when it is written empty (nothing to probe).
    public var checkEndpoints: [CheckEndpoint]? {
        get { storage.checkEndpoints }
        _modify {
            makeUnique()
            yield &storage.checkEndpoints
        }
    }

    public static func == (lhs: ServiceConfig, rhs: ServiceConfig) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.address == rhs.address
            && lhs.file == rhs.file
            && lhs.name == rhs.name
            && lhs.signer == rhs.signer
            && lhs.dane == rhs.dane
            && lhs.daneTTL == rhs.daneTTL
            && lhs.key == rhs.key
            && lhs.subject == rhs.subject
            && lhs.sans == rhs.sans
            && lhs.signing == rhs.signing
            && lhs.renewInfo == rhs.renewInfo
            && lhs.checkEndpoints == rhs.checkEndpoints
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address)
        hasher.combine(file)
        hasher.combine(name)
        hasher.combine(signer)
        hasher.combine(dane)
        hasher.combine(daneTTL)
        hasher.combine(key)
        hasher.combine(subject)
        hasher.combine(sans)
        hasher.combine(signing)
        hasher.combine(renewInfo)
        hasher.combine(checkEndpoints)
    }

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
