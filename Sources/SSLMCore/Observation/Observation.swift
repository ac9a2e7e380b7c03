import Foundation

/// Everything sslm observed about a topdir before planning: the certificate trees of the configured
/// services, the TLSA files and their published copies, the production tree, DNS facts and the local
/// host names. A plain value: the planner reads it and never the disk.
///
/// Guarantees: collections are sorted (services by address, db dirs by name, files by name), so equal
/// states encode to equal bytes; `fingerprint` is a digest of everything else, for stale-plan detection.
/// It never contains private key material (key files are represented by their public key and a digest).
public struct Observation: Sendable, Hashable, Codable {
    /// Absolute topdir.
    public var topdir: String
    /// Identity of this topdir (`.sslm/lineage`); nil before the first apply created it.
    public var lineage: String?
    /// Names under which this machine is "local" for server tables (short and full host name).
    public var localHostNames: [String]
    public var services: [ServiceState]
    public var groups: [GroupState]
    public var production: ProductionState
    public var dns: [DNSFacts]
    /// Service directories under `certs/<group>/` of configured groups that no config file describes
    /// (a service removed from the config). Each is also in `orphans` (with the services of removed groups),
    /// which the planner notes, or retires with `--retire`.
    public var unconfigured: [ServiceAddress]
    /// Deployment actions (`server/<host>/copy`, `restart/<section>/<host>`, `post_copy/<host>`,
    /// `dns/refresh`) whose last attempt in the journal failed, was skipped or was interrupted: work the
    /// files on disk cannot show, to be retried.
    public var pendingDeployment: [String]
    /// `sha256:…` over all of the above (the digest of `parts`).
    public var fingerprint: String
    /// Digests of the observation's parts: `service:<group>/<service>` (its certs tree and production
    /// copy), `apex:<apex>` (TLSA file, copies, production copy, DNS facts) and `run` (everything else).
    /// A saved plan keeps them, so a stale plan can say what changed.
    public var parts: [String: String]
    /// Apexes whose `[dns] acme_dir/acme-challenge.<apex>` still holds TXT rows (a run that stopped
    /// before clearing them); nil when none. Not part of the fingerprint.
    public var acmeChallengeLeftovers: [String]?
    /// The ACME CAs' suggested renewal windows (ARI, RFC 9773) of curr certificates, by `group/service`;
    /// nil when none was asked or offered. Not part of the fingerprint (it is the CA's, not the disk's).
    public var renewalWindows: [String: RenewalWindow]?
    /// Per apex with DANE services: the TLSA records curr and next imply and, when a roll is to be decided,
    /// what the apex's name servers serve of them (see `DANEPublication`). nil when no apex has DANE. Not
    /// part of the fingerprint: the records follow from the certificates, the rest is the DNS's.
    public var danePublications: [DANEPublication]?
    /// What `.sslm/certificates.json` records of the certificates of curr, next and prev (`CertificateRecord`),
    /// by the SHA-256 of their DER; nil when none has a record. Not part of the fingerprint (like the ARI
    /// windows): `apply FILE` plans again and compares the actions, which is where a record shows.
    public var certificateRecords: [String: CertificateRecord]?
    /// The ACME account URL sslm holds for each directory URL and contact email
    /// (`CertificateRecord.accountKey`); nil when there is none. An order goes out with that account (or
    /// with a new one when there is none).
    public var acmeAccounts: [String: String]?
    /// The failed ACME orders of each service since its last successful one (`.sslm/acme/failures.json`),
    /// by `group/service`; nil when none. Not part of the fingerprint.
    public var orderFailures: [String: [OrderFailure]]?
    /// The DANE endpoints probed for apexes whose published TLSA copies wait for an update (which may
    /// withdraw an old key's records); nil when none was probed. Not part of the fingerprint.
    public var daneEndpoints: [DANEEndpointProbe]?
    /// The `certs/<group>/<service>` directories of services (or whole groups) no longer in the config,
    /// sorted by address (`OrphanState`); nil when none. Part of the fingerprint (the `run` part).
    public var orphans: [OrphanState]?

    /// `fingerprinted: false` leaves `fingerprint` and `parts` empty, for a reader that shows neither
    /// (`sslm status`): computing them JSON-encodes the groups and the run, about 0.6 ms of the 11 ms a
    /// status of 20 services takes.
    public init(
        topdir: String, lineage: String?, localHostNames: [String], services: [ServiceState],
        groups: [GroupState], production: ProductionState, dns: [DNSFacts],
        unconfigured: [ServiceAddress] = [], pendingDeployment: [String] = [], orphans: [OrphanState]? = nil,
        fingerprinted: Bool = true
    ) {
        self.topdir = topdir
        self.orphans = orphans
        self.lineage = lineage
        self.localHostNames = localHostNames.sorted()
        self.services = services.sorted { $0.address < $1.address }
        self.groups = groups.sorted { $0.apex < $1.apex }
        self.production = production
        self.dns = dns.sorted { $0.apex < $1.apex }
        self.unconfigured = unconfigured.sorted()
        self.pendingDeployment = pendingDeployment.sorted()
        self.fingerprint = ""
        self.parts = [:]
        guard fingerprinted else { return }
        self.parts = Self.computeParts(self)
        self.fingerprint = Self.fingerprint(of: self.parts)
    }

    /// Binary search: `services` is sorted by address (plans look services up several times each).
    public func service(_ address: ServiceAddress) -> ServiceState? {
        SortedLookup.find(services, address) { $0.address }
    }

    public func group(_ apex: String) -> GroupState? { SortedLookup.find(groups, apex) { $0.apex } }

    public func dnsFacts(_ apex: String) -> DNSFacts? { dns.first { $0.apex == apex } }

    /// The DANE publication state of `apex`, when it has DANE services.
    public func danePublication(_ apex: String) -> DANEPublication? { danePublications?.first { $0.apex == apex } }

    /// The record of a certificate (`CertificateRecord`), when sslm has one.
    public func record(of certificate: CertificateFacts) -> CertificateRecord? {
        certificateRecords?[certificate.certificateSHA256]
    }

    /// Recomputes `parts` and `fingerprint` after a part of the fingerprint (`orphans`) was set.
    public mutating func refreshFingerprint() {
        parts = Self.computeParts(self)
        fingerprint = Self.fingerprint(of: parts)
    }

    /// The fingerprint an observation with this content has (recomputed; ignores the stored one).
    public static func computeFingerprint(_ observation: Observation) -> String {
        fingerprint(of: computeParts(observation))
    }

    static func fingerprint(of parts: [String: String]) -> String {
        var text = ""
        for key in parts.keys.sorted() { text += key + "=" + (parts[key] ?? "") + "\n" }
        return ContentDigest.labelled(Array(text.utf8))
    }

    /// Names the binary layout of a service's part; changing the layout changes it.
    static let servicePartVersion = "service-part 1"

    /// Per-part digests (see `parts`).
    public static func computeParts(_ observation: Observation) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        func digest<T: Encodable>(_ value: T) -> String {
            ContentDigest.labelled((try? encoder.encode(value)) ?? Data())
        }
        struct ApexPart: Encodable {
            let group: GroupState
            let productionTLSA: String?
            let dns: DNSFacts?
        }
        struct RunPart: Encodable {
            let topdir: String
            let lineage: String?
            let localHostNames: [String]
            let productionRoot: String
            let productionExists: Bool
            let unconfigured: [ServiceAddress]
            let dns: [DNSFacts]
            let pendingDeployment: [String]
            let orphans: [OrphanState]?
        }
        var parts: [String: String] = [:]
        // Each service's state and production copy in their binary form (`ObservationCoding`), in parallel
        // chunks: at 10,000 services this was most of the cost of the fingerprint as JSON.
        let production = observation.production
        let results = ParallelMap.map(observation.services, makeContext: { () }) { _, state -> String in
            var writer = ByteWriter()
            writer.string(servicePartVersion)
            writer.serviceState(state)
            writer.optional(production.service(state.address)) { $0.productionService($1) }
            return ContentDigest.labelled(writer.bytes)
        }
        let services = observation.services
        for (index, state) in services.enumerated() { parts["service:\(state.address)"] = results[index] }
        for group in observation.groups {
            parts["apex:\(group.apex)"] = digest(
                ApexPart(
                    group: group, productionTLSA: observation.production.tlsaFiles[group.apex] ?? nil,
                    dns: observation.dnsFacts(group.apex)))
        }
        parts["run"] = digest(
            RunPart(
                topdir: observation.topdir, lineage: observation.lineage, localHostNames: observation.localHostNames,
                productionRoot: observation.production.root, productionExists: observation.production.exists,
                unconfigured: observation.unconfigured, dns: observation.dns,
                pendingDeployment: observation.pendingDeployment, orphans: observation.orphans))
        return parts
    }
}

/// The `certs/<group>/<service>` tree of one service.
public struct ServiceState: Sendable, Hashable, Codable {
    public var address: ServiceAddress
    /// Whether `certs/<group>/<service>` exists at all.
    public var exists: Bool
    public var curr: LinkState
    public var next: LinkState
    public var prev: LinkState
    /// Dated directories under `db/`, sorted by name (= creation time).
    public var dbDirs: [DBDirState]
    /// Entries of `db/` that are not dated directories (left alone, reported).
    public var strayEntries: [String]

    public init(
        address: ServiceAddress, exists: Bool, curr: LinkState, next: LinkState, prev: LinkState,
        dbDirs: [DBDirState], strayEntries: [String]
    ) {
        self.address = address
        self.exists = exists
        self.curr = curr
        self.next = next
        self.prev = prev
        self.dbDirs = dbDirs.sorted { $0.name < $1.name }
        self.strayEntries = strayEntries.sorted()
    }

    /// The db directory a link points to, when the link is valid.
    public func dbDir(_ link: LinkState) -> DBDirState? {
        guard case .valid(let name) = link else { return nil }
        return dbDirs.first { $0.name == name }
    }
}

/// A `curr`/`next`/`prev` link.
public enum LinkState: Sendable, Hashable, Codable {
    case absent
    /// A symlink to `db/<name>`, which exists.
    case valid(String)
    /// A symlink whose target does not exist (or is outside `db/`).
    case dangling(String)
    /// Something that is not a symlink (a directory or file named `curr`).
    case notALink

    public var dbName: String? { if case .valid(let name) = self { name } else { nil } }
}

/// One `db/<timestamp>` directory.
///
/// A copy-on-write value: its fields live in one shared `Storage` object, so copying a `DBDirState` (which
/// `ServiceState.dbDir(_:)` and the planner do several times per service) retains one object instead of
/// every string and dictionary in it. Mutation copies the storage first when it is shared, so value
/// semantics are unchanged. Equality, hashing and the `Codable` form are those of the fields (the same keys,
/// in the same order, optionals omitted when nil, as the synthesized conformance had).
public struct DBDirState: Sendable, Hashable, Codable {
    private final class Storage: @unchecked Sendable {
        var name: String
        var files: [String: String]
        var key: KeyFacts?
        var request: RequestFacts?
        var certificate: CertificateFacts?
        var chainFirst: CertificateFacts?
        var problems: [String: String]
        var damage: [String: String]?
        var modeDrift: [String: String]?

        init(
            name: String, files: [String: String], key: KeyFacts?, request: RequestFacts?,
            certificate: CertificateFacts?, chainFirst: CertificateFacts?, problems: [String: String],
            damage: [String: String]?, modeDrift: [String: String]?
        ) {
            self.name = name
            self.files = files
            self.key = key
            self.request = request
            self.certificate = certificate
            self.chainFirst = chainFirst
            self.problems = problems
            self.damage = damage
            self.modeDrift = modeDrift
        }

        func copy() -> Storage {
            Storage(
                name: name, files: files, key: key, request: request, certificate: certificate,
                chainFirst: chainFirst, problems: problems, damage: damage, modeDrift: modeDrift)
        }
    }

    private var storage: Storage

    /// Makes `storage` this value's own before a mutation (copy-on-write).
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// The directory's name (`db/<name>`).
    public var name: String {
        get { storage.name }
        _modify {
            makeUnique()
            yield &storage.name
        }
    }
    /// Regular files and their `sha256:` digests.
    public var files: [String: String] {
        get { storage.files }
        _modify {
            makeUnique()
            yield &storage.files
        }
    }
    public var key: KeyFacts? {
        get { storage.key }
        _modify {
            makeUnique()
            yield &storage.key
        }
    }
    public var request: RequestFacts? {
        get { storage.request }
        _modify {
            makeUnique()
            yield &storage.request
        }
    }
    public var certificate: CertificateFacts? {
        get { storage.certificate }
        _modify {
            makeUnique()
            yield &storage.certificate
        }
    }
    /// Facts of the first certificate of `chain.pem` (the issuer, for local CAs).
    public var chainFirst: CertificateFacts? {
        get { storage.chainFirst }
        _modify {
            makeUnique()
            yield &storage.chainFirst
        }
    }
    /// Files present but unreadable or malformed: file name → problem.
    public var problems: [String: String] {
        get { storage.problems }
        _modify {
            makeUnique()
            yield &storage.problems
        }
    }
    /// For the directories `curr` and `next` point to: files that do not fit the set (`CertificateSetCheck`
    /// in SSLMPKI: a chain that does not issue the certificate, a fullchain or bundle that is not made of
    /// the other files, a missing file) → why. nil when the set is consistent, or was not checked.
    public var damage: [String: String]? {
        get { storage.damage }
        _modify {
            makeUnique()
            yield &storage.damage
        }
    }
    /// For the directories `curr` and `next` point to: private key files (`privkey.pem`, `bundle.pem`)
    /// whose permission bits are not 0600 → the mode found (`0644`). nil when none.
    public var modeDrift: [String: String]? {
        get { storage.modeDrift }
        _modify {
            makeUnique()
            yield &storage.modeDrift
        }
    }

    public init(
        name: String, files: [String: String], key: KeyFacts?, request: RequestFacts?,
        certificate: CertificateFacts?, chainFirst: CertificateFacts?, problems: [String: String],
        damage: [String: String]? = nil, modeDrift: [String: String]? = nil
    ) {
        storage = Storage(
            name: name, files: files, key: key, request: request, certificate: certificate,
            chainFirst: chainFirst, problems: problems, damage: damage, modeDrift: modeDrift)
    }

    public func has(_ file: String) -> Bool { files[file] != nil }

    private enum CodingKeys: String, CodingKey {
        case name, files, key, request, certificate, chainFirst, problems, damage, modeDrift
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            files: try container.decode([String: String].self, forKey: .files),
            key: try container.decodeIfPresent(KeyFacts.self, forKey: .key),
            request: try container.decodeIfPresent(RequestFacts.self, forKey: .request),
            certificate: try container.decodeIfPresent(CertificateFacts.self, forKey: .certificate),
            chainFirst: try container.decodeIfPresent(CertificateFacts.self, forKey: .chainFirst),
            problems: try container.decode([String: String].self, forKey: .problems),
            damage: try container.decodeIfPresent([String: String].self, forKey: .damage),
            modeDrift: try container.decodeIfPresent([String: String].self, forKey: .modeDrift))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(files, forKey: .files)
        try container.encodeIfPresent(key, forKey: .key)
        try container.encodeIfPresent(request, forKey: .request)
        try container.encodeIfPresent(certificate, forKey: .certificate)
        try container.encodeIfPresent(chainFirst, forKey: .chainFirst)
        try container.encode(problems, forKey: .problems)
        try container.encodeIfPresent(damage, forKey: .damage)
        try container.encodeIfPresent(modeDrift, forKey: .modeDrift)
    }

    public static func == (lhs: DBDirState, rhs: DBDirState) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.name == rhs.name && lhs.files == rhs.files && lhs.key == rhs.key && lhs.request == rhs.request
            && lhs.certificate == rhs.certificate && lhs.chainFirst == rhs.chainFirst && lhs.problems == rhs.problems
            && lhs.damage == rhs.damage && lhs.modeDrift == rhs.modeDrift
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(files)
        hasher.combine(key)
        hasher.combine(request)
        hasher.combine(certificate)
        hasher.combine(chainFirst)
        hasher.combine(problems)
        hasher.combine(damage)
        hasher.combine(modeDrift)
    }
}

/// The public side of a private key file.
public struct KeyFacts: Sendable, Hashable, Codable {
    public var spec: KeySpec?
    /// SHA-256 of the DER SubjectPublicKeyInfo of the key's public half.
    public var spkiSHA256: String

    public init(spec: KeySpec?, spkiSHA256: String) {
        self.spec = spec
        self.spkiSHA256 = spkiSHA256
    }
}

/// What a CSR asks for.
public struct RequestFacts: Sendable, Hashable, Codable {
    public var spkiSHA256: String
    public var commonName: String?
    public var sans: [String]

    public init(spkiSHA256: String, commonName: String?, sans: [String]) {
        self.spkiSHA256 = spkiSHA256
        self.commonName = commonName
        self.sans = sans
    }
}

/// The TLSA state of an apex: `certs/<apex>/tlsa.<apex>`, what curr + next imply, and the published copies.
public struct GroupState: Sendable, Hashable, Codable {
    public var apex: String
    /// Digest of the normalised record lines of `certs/<apex>/tlsa.<apex>` (comments and blank lines
    /// ignored); nil when the file does not exist.
    public var tlsaFile: String?
    /// Digest of the normalised records the current curr and next certificates imply; nil when no DANE
    /// service of the apex has a certificate.
    public var tlsaExpected: String?
    /// Why the owners could not be recomputed (DNS facts unavailable) and what was kept instead.
    public var tlsaNote: String?
    /// Each `[dns] tlsa_dirs` directory → digest of its `tlsa.<apex>` (nil when absent).
    public var tlsaCopies: [String: String?]

    public init(
        apex: String, tlsaFile: String?, tlsaExpected: String?, tlsaNote: String?,
        tlsaCopies: [String: String?]
    ) {
        self.apex = apex
        self.tlsaFile = tlsaFile
        self.tlsaExpected = tlsaExpected
        self.tlsaNote = tlsaNote
        self.tlsaCopies = tlsaCopies
    }
}

/// The production tree (`prod_cert_dir`).
public struct ProductionState: Sendable, Hashable, Codable {
    public var root: String
    public var exists: Bool
    public var services: [ProductionServiceState]
    /// apex → digest of `<prod>/<apex>/tlsa.<apex>` (nil when absent).
    public var tlsaFiles: [String: String?]

    public init(root: String, exists: Bool, services: [ProductionServiceState], tlsaFiles: [String: String?]) {
        self.root = root
        self.exists = exists
        self.services = services.sorted { $0.address < $1.address }
        self.tlsaFiles = tlsaFiles
    }

    public func service(_ address: ServiceAddress) -> ProductionServiceState? {
        SortedLookup.find(services, address) { $0.address }
    }
}

/// `<prod>/<group>/<service>/{curr,next}`: file name → digest, nil when the directory is absent.
public struct ProductionServiceState: Sendable, Hashable, Codable {
    public var address: ServiceAddress
    public var curr: [String: String]?
    public var next: [String: String]?
    /// Hidden entries an interrupted apply left in `<prod>/<group>/<service>` (staging directories,
    /// temporary files; they may hold an old private key). nil when there are none.
    public var leftovers: [String]?
    /// Files whose permission bits are not those sslm sets in production (`ProductionFileRule.mode`), as
    /// `curr/<file>` or `next/<file>` → the mode found (`0644`). nil when every mode is as sslm sets it.
    public var modeDrift: [String: String]?

    public init(
        address: ServiceAddress, curr: [String: String]?, next: [String: String]?,
        leftovers: [String]? = nil, modeDrift: [String: String]? = nil
    ) {
        self.address = address
        self.curr = curr
        self.next = next
        self.leftovers = leftovers
        self.modeDrift = modeDrift
    }
}

/// DNS facts of an apex, gathered before planning.
public struct DNSFacts: Sendable, Hashable, Codable {
    public var apex: String
    /// MX host names (lowercase, no trailing dot), sorted; nil when the lookup failed.
    public var mxHosts: [String]?
    /// Why the lookup failed.
    public var failure: String?

    public init(apex: String, mxHosts: [String]?, failure: String?) {
        self.apex = apex
        self.mxHosts = mxHosts?.sorted()
        self.failure = failure
    }
}

/// Binary search in arrays sorted by a key.
enum SortedLookup {
    /// `keyOf` reads the key of an element in place: a key path applied to a generic element copied the
    /// whole element (every reference it holds retained and released) at each step of the search.
    static func find<Element, Key: Comparable>(_ items: [Element], _ key: Key, by keyOf: (borrowing Element) -> Key)
        -> Element?
    {
        var low = 0
        var high = items.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = keyOf(items[middle])
            if candidate == key { return items[middle] }
            if candidate < key { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}

/// A CA's suggested renewal window for one certificate (ARI, RFC 9773).
public struct RenewalWindow: Sendable, Hashable, Codable {
    /// Serial (hex) of the certificate the window is for: it applies only while that one is curr.
    public var serialHex: String
    public var start: Date
    public var end: Date
    /// The CA's explanation, if it gave one.
    public var explanationURL: String?

    public init(serialHex: String, start: Date, end: Date, explanationURL: String? = nil) {
        self.serialHex = serialHex
        self.start = start
        self.end = end
        self.explanationURL = explanationURL
    }

    /// The moment in the window at which this certificate renews: a fraction of the window derived from
    /// the serial (RFC 9773 asks clients to pick a random time in the window; a serial-derived one keeps
    /// plans reproducible and still spreads renewals).
    public var renewAt: Date {
        let length = max(0, end.timeIntervalSince(start))
        let hex = ContentDigest.sha256Hex(Array(("ari:" + serialHex).utf8))
        let fraction = Double(UInt64(hex.prefix(13), radix: 16) ?? 0) / Double(1 << 52)
        return start.addingTimeInterval((length * fraction).rounded())
    }
}
