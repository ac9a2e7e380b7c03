import Foundation
import SSLMConfig
import SSLMCore
import SSLMPKI
import X509

/// Reads the state of a topdir — the `certs/` trees of the given services, the TLSA files and their
/// published copies, the production tree — into an `Observation` for the planner.
///
/// Guarantees: reads only, never writes; never throws and never traps on what it finds — an unreadable or
/// malformed file becomes an entry of `DBDirState.problems`; the result is deterministic (sorted), so
/// observing an unchanged topdir twice gives equal values and fingerprints. Services are observed
/// concurrently. What is parsed: the key, CSR, certificate and chain of the db directories `curr`, `next`
/// and `prev` point to; other (old) db directories are recorded by name only. Not a validator: it does
/// not check signatures or trust.
public enum Observer {
    /// Observes `services` (the planner passes every configured service plus the targets; duplicates are
    /// ignored). `dns` are the DNS facts gathered before (see `DNSFactsGatherer` in SSLMDNS); they decide
    /// the MX owners of the expected TLSA records. `localHostNames` is passed through. `fingerprinted`:
    /// see `Observation.init`.
    public static func observe(
        config: Config, services: [ServiceAddress], dns: [DNSFacts], localHostNames: [String],
        cache: ObservationCache? = nil, fingerprinted: Bool = true
    ) -> Observation {
        let topdir = config.topdir
        let prodRoot = config.globals.prodCertDir
        let addresses = Array(Set(services)).sorted()

        // Per service: the certs tree and the production copies, concurrently.
        let chainCache = DBDirectoryReader.ChainCache()
        let issuers = localIssuers(config: config)
        let readings = ParallelMap.map(addresses, minimumChunk: 16, makeContext: { () }) { _, address in
            ServiceObservation(
                tree: ServiceTreeReader.read(
                    topdir: topdir, address: address, chainCache: chainCache, fallbackIssuers: issuers, cache: cache),
                production: ProductionReader.read(prodRoot: prodRoot, address: address, cache: cache))
        }
        let byAddress = Dictionary(
            zip(addresses, readings.map(\.tree)), uniquingKeysWith: { first, _ in first })

        // TLSA: every apex of the observed services with at least one DANE service.
        let daneByApex = Dictionary(grouping: config.services.values.filter { !$0.dane.isEmpty }, by: \.address.group)
        let observedGroups = Set(addresses.map(\.group))
        let orphans = OrphanReader.read(
            config: config, localCAs: addresses.filter { $0.group == GroupConfig.caGroup }.compactMap { byAddress[$0] },
            issuers: issuers)
        // The apexes of orphans whose TLSA file no configured DANE service keeps: observed for the withdrawal.
        let orphanApexes = Set(orphans.map(\.address.group)).filter { apex in
            daneByApex[apex] == nil && apex != GroupConfig.caGroup
                && PosixFiles.linkKind(CertsLayout.tlsaFile(topdir: topdir, apex: apex)) == .regular
        }
        let apexes = Set(daneByApex.keys.filter { observedGroups.contains($0) }).union(orphanApexes).sorted()
        let dnsByApex = Dictionary(dns.map { ($0.apex, $0) }, uniquingKeysWith: { first, _ in first })
        let tlsa = ParallelMap.map(apexes, minimumChunk: 1, makeContext: { () }) { _, apex in
            tlsaState(
                apex: apex, services: (daneByApex[apex] ?? []).sorted { $0.address.service < $1.address.service },
                config: config, dns: dnsByApex[apex], observed: byAddress)
        }

        let configured = Set(config.services.keys).union(addresses)
        let unconfigured = observedGroups.sorted().flatMap { group in
            unconfiguredServices(topdir: topdir, group: group, configured: configured)
        }

        let production = ProductionState(
            root: prodRoot, exists: PosixFiles.isDirectory(prodRoot),
            services: zip(addresses, readings).map { address, reading in
                ProductionServiceState(
                    address: address, curr: reading.production.curr, next: reading.production.next,
                    leftovers: reading.production.leftovers.isEmpty ? nil : reading.production.leftovers,
                    modeDrift: reading.production.modeDrift.isEmpty ? nil : reading.production.modeDrift)
            },
            tlsaFiles: Dictionary(uniqueKeysWithValues: zip(apexes, tlsa.map(\.production))))

        var observation = Observation(
            topdir: topdir, lineage: lineage(topdir: topdir), localHostNames: localHostNames,
            services: readings.map(\.tree.state), groups: tlsa.map(\.group), production: production, dns: dns,
            unconfigured: unconfigured, pendingDeployment: PendingDeployment.read(topdir: topdir),
            orphans: orphans.isEmpty ? nil : orphans, fingerprinted: fingerprinted)
        var leftovers = apexes.filter { apex in
            config.dns.acmeDirs.contains { challengeRows(in: $0 + "/acme-challenge." + apex) > 0 }
        }
        // Challenge records sent to zones that sslm changes itself (rfc2136, exec) and not deleted yet.
        for apex in Set(config.groups.map { $0.domain.lowercased() }) where !leftovers.contains(apex) {
            if PosixFiles.linkKind(DNSPublicationFiles.challengesFile(topdir: topdir, apex: apex)) == .regular {
                leftovers.append(apex)
            }
        }
        leftovers.sort()
        observation.acmeChallengeLeftovers = leftovers.isEmpty ? nil : leftovers
        let publications = zip(apexes, tlsa).filter { !orphanApexes.contains($0.0) }.map { apex, state in
            DANEPublication(apex: apex, expected: state.slotRecords)
        }
        observation.danePublications = publications.isEmpty ? nil : publications
        let certificates = Set(
            readings.flatMap { reading in
                [reading.tree.state.curr, reading.tree.state.next, reading.tree.state.prev].compactMap {
                    reading.tree.state.dbDir($0)?.certificate?.certificateSHA256
                }
            } + orphans.compactMap { $0.curr?.certificateSHA256 })
        observation.certificateRecords = CertificateLedger.records(topdir: topdir, for: certificates)
        observation.acmeAccounts = acmeAccounts(config: config, services: addresses)
        let failures = OrderFailureLog.read(topdir: topdir).filter { !$0.value.isEmpty }
        observation.orderFailures = failures.isEmpty ? nil : failures
        return observation
    }

    /// The account URLs recorded under `.sslm/acme/accounts` for the ACME CAs (production and staging
    /// directory) and contact emails of `services`; nil when there is none. The account directory is named
    /// as `ACMEAccountStore` names it: the first 16 hex digits of SHA-256("url\nemail").
    static func acmeAccounts(config: Config, services: [ServiceAddress]) -> [String: String]? {
        var accounts: [String: String] = [:]
        for address in services {
            guard let service = config.service(address), case .authority(let name) = service.signer,
                let acme = config.certificateAuthorities[name]?.acme
            else { continue }
            let email = service.subject.email
            for directory in [acme.directoryURL, acme.stagingDirectoryURL].compactMap({ $0 }) {
                let key = CertificateRecord.accountKey(directory: directory, email: email)
                guard accounts[key] == nil else { continue }
                let id = ContentDigest.sha256Hex(Array("\(directory)\n\(email)".utf8)).prefix(16)
                let file = config.topdir + "/.sslm/acme/accounts/\(id)/account.json"
                guard case .success(let bytes) = PosixFiles.read(file, limit: .state, followLinks: false),
                    let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                    let url = object["url"] as? String
                else { continue }
                accounts[key] = url
            }
        }
        return accounts.isEmpty ? nil : accounts
    }

    /// The observation cache of `config`'s topdir (`ObservationCache`), for `observe(…, cache:)`; an empty
    /// one when `SSLM_OBSERVATION_CACHE=off` is set (every file is read, nothing is kept).
    /// `recording`: whether this run will write the cache (holds the writer lock).
    public static func openCache(config: Config, recording: Bool) -> ObservationCache? {
        if ProcessInfo.processInfo.environment["SSLM_OBSERVATION_CACHE"] == "off" { return nil }
        let issuerFiles = localIssuerFiles(config: config).map { $0.bytes ?? [] }
        return ObservationCache.load(
            topdir: config.topdir, context: ObservationCache.context(issuerFiles: issuerFiles), recording: recording)
    }

    /// The current certificates of the configured local CAs (`certs/ca/<name>/curr/cert.pem`): a leaf whose
    /// `chain.pem` is missing or damaged can be verified against them (and its chain rebuilt).
    static func localIssuers(config: Config) -> [Certificate] {
        localIssuerFiles(config: config).compactMap { file in
            file.bytes.flatMap { try? CertificatePEM.decodeAll($0, file: file.path).first }
        }
    }

    /// `certs/ca/<name>/curr/cert.pem` of each local CA, by name; nil bytes when it cannot be read.
    private static func localIssuerFiles(config: Config) -> [(path: String, bytes: [UInt8]?)] {
        config.certificateAuthorities.values.filter(\.isLocal).sorted { $0.name < $1.name }.map { ca in
            let path = CertsLayout.certificateFile(topdir: config.topdir, address: ca.localAddress, slot: .curr)
            guard case .success(let bytes) = PosixFiles.read(path) else { return (path, nil) }
            return (path, bytes)
        }
    }

    /// TXT rows of an `acme-challenge.<apex>` file (0 when it is absent or holds only comments).
    static func challengeRows(in path: String) -> Int {
        guard case .success(let bytes) = PosixFiles.read(path, limit: .state) else { return 0 }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            return !text.hasPrefix(";") && text.split(whereSeparator: \.isWhitespace).contains("TXT")
        }.count
    }

    /// `.sslm/lineage`, trimmed; nil when absent or empty.
    static func lineage(topdir: String) -> String? {
        guard
            case .success(let bytes) = PosixFiles.read(
                CertsLayout.lineageFile(topdir: topdir), limit: .state, followLinks: false)
        else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Directories under `certs/<group>/` that are not configured services (dot-entries and `tlsa.*`
    /// ignored).
    static func unconfiguredServices(topdir: String, group: String, configured: Set<ServiceAddress>)
        -> [ServiceAddress]
    {
        let directory = CertsLayout.groupDirectory(topdir: topdir, group: group)
        var result: [ServiceAddress] = []
        for entry in PosixFiles.entries(directory) ?? [] {
            if entry.name.hasPrefix(".") || entry.name.hasPrefix("tlsa.") { continue }
            let address = ServiceAddress(group: group, service: entry.name)
            guard !configured.contains(address), PosixFiles.isDirectory(directory + "/" + entry.name) else { continue }
            result.append(address)
        }
        return result.sorted()
    }

    private struct ServiceObservation: Sendable {
        var tree: ServiceTreeReader.Reading
        var production: ProductionReader.Reading
    }

    private struct TLSAObservation: Sendable {
        var group: GroupState
        /// Normalised digest of `<prod>/<apex>/tlsa.<apex>`.
        var production: String?
        /// The records of each DANE service's curr and next.
        var slotRecords: [DANESlotRecords]
    }

    private static func tlsaState(
        apex: String, services: [ServiceConfig], config: Config, dns: DNSFacts?,
        observed: [ServiceAddress: ServiceTreeReader.Reading]
    ) -> TLSAObservation {
        let existing = readText(CertsLayout.tlsaFile(topdir: config.topdir, apex: apex))
        let output = TLSAFileBuilder.build(
            apex: apex, services: services, dns: dns, existingFile: existing, rolling: false,
            certificate: { address, slot in
                if let reading = observed[address] { return reading.certificate(slot) }
                return try TLSAFileBuilder.diskCertificate(topdir: config.topdir, address: address, slot: slot)
            },
            issuer: { address, slot in
                try TLSAFileBuilder.diskIssuer(topdir: config.topdir, address: address, slot: slot)
            })
        var copies: [String: String?] = [:]
        if config.dnsPrimary(for: apex).map({ $0.update != .include }) == true {
            // The zone is changed by sslm itself: the copy is what it sent last.
            copies[DNSPublicationFiles.relativeDirectory] = normalisedDigest(
                DNSPublicationFiles.tlsaSentFile(topdir: config.topdir, apex: apex))
        } else {
            for directory in config.dns.tlsaDirs {
                copies[directory] = normalisedDigest(directory + "/" + CertsLayout.tlsaFileName(apex: apex))
            }
        }
        let group = GroupState(
            apex: apex, tlsaFile: existing.map(TLSAFileBuilder.normalisedDigest(of:)),
            tlsaExpected: output.normalisedDigest, tlsaNote: output.note, tlsaCopies: copies)
        let production = normalisedDigest(ProductionLayout.tlsaFile(prodRoot: config.globals.prodCertDir, apex: apex))
        return TLSAObservation(group: group, production: production, slotRecords: output.slotRecords)
    }

    private static func readText(_ path: String) -> String? {
        guard case .success(let bytes) = PosixFiles.read(path, limit: .state) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func normalisedDigest(_ path: String) -> String? {
        readText(path).map(TLSAFileBuilder.normalisedDigest(of:))
    }
}

/// Reads `<prod>/<group>/<service>/{curr,next}/`: regular files (following symlinks, dot-entries
/// ignored — the executor builds new sets in hidden directories before swapping them in) → digest of the
/// exact bytes. An unreadable file gets a value that is not a digest (`unreadable: …`), so it never
/// compares equal.
enum ProductionReader {
    struct Reading: Sendable {
        var curr: [String: String]?
        var next: [String: String]?
        /// Hidden entries an interrupted run left (staging directories, temporary files), relative to
        /// `<prod>/<group>/<service>`.
        var leftovers: [String]
        /// `curr/<file>` → mode, for files whose mode is not `ProductionFileRule.mode(fileName:)`.
        var modeDrift: [String: String]
    }

    static func read(prodRoot: String, address: ServiceAddress, cache: ObservationCache? = nil) -> Reading {
        let serviceDirectory = ProductionLayout.serviceDirectory(prodRoot: prodRoot, address: address)
        let listing = PosixFiles.entries(serviceDirectory).map { Set($0.map(\.name)) }
        var leftovers = (listing ?? []).filter { $0.hasPrefix(".") }.sorted()
        var slots: [CertificateSlot: [String: String]] = [:]
        var modeDrift: [String: String] = [:]
        // A slot the listing does not name is absent (an unlistable directory is tried all the same).
        for slot in [CertificateSlot.curr, .next] where listing?.contains(slot.rawValue) ?? true {
            let directory = ProductionLayout.serviceDirectory(prodRoot: prodRoot, address: address, slot: slot)
            guard let read = files(directory, cache: cache) else { continue }
            slots[slot] = read.files
            leftovers += read.hidden.map { slot.rawValue + "/" + $0 }
            for (name, mode) in read.modes where mode != ProductionFileRule.mode(fileName: name) {
                modeDrift[slot.rawValue + "/" + name] = ProductionFileRule.modeText(mode)
            }
        }
        return Reading(
            curr: slots[.curr], next: slots[.next], leftovers: leftovers.sorted(), modeDrift: modeDrift)
    }

    /// Regular files (name → digest), their permission bits and the hidden entries of a production
    /// directory; nil when it is not a directory that can be listed. One `fstatat` per file gives its kind,
    /// its cache signature and its mode.
    static func files(_ directory: String, cache: ObservationCache? = nil) -> (
        files: [String: String], modes: [String: UInt32], hidden: [String]
    )? {
        PosixFiles.withDirectory(directory) { opened in
            var result: [String: String] = [:]
            var modes: [String: UInt32] = [:]
            let hidden = opened.entries.map(\.name).filter { $0.hasPrefix(".") }
            for entry in opened.entries where !entry.name.hasPrefix(".") {
                let info = opened.status(entry.name, followLinks: true)
                let kind = entry.kind == .regular ? .regular : info.map(PosixFiles.kind(of:)) ?? .missing
                guard kind == .regular else { continue }
                let signature = info.map(FileSignature.init)
                result[entry.name] = digest(directory + "/" + entry.name, signature: signature, cache: cache)
                if let info { modes[entry.name] = UInt32(info.st_mode) & 0o7777 }
            }
            return (result, modes, hidden)
        }
    }

    /// The digest of a production file (`unreadable: …` when it cannot be read), through the cache: its
    /// signature is taken before it is read.
    private static func digest(_ path: String, signature: FileSignature?, cache: ObservationCache?) -> String {
        if let cache, let signature, let known = cache.digest(path, signature: signature) { return known }
        switch PosixFiles.read(path) {
        case .success(let bytes):
            let digest = ContentDigest.labelled(bytes)
            if let cache, let signature { cache.store(digest: digest, path: path, signature: signature) }
            return digest
        case .failure(let error):
            return "unreadable: " + error.description
        }
    }
}
