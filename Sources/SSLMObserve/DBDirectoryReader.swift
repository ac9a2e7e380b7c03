import Foundation
import SSLMCore
import SSLMPKI
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads one `db/<timestamp>` directory into a `DBDirState`.
///
/// Two depths, chosen by the caller: a directory a link points to (`curr`, `next`, `prev`) is read fully —
/// every regular file is read once, digested, and the key, CSR, certificate and first chain certificate
/// are parsed from those same bytes; any other (old) directory is recorded by name only (`files` empty,
/// no facts): the planner uses old directories only to clean them, and reading every file of every old
/// directory would dominate the observation time. Dot-files (temporary files of an interrupted atomic
/// write) and entries that are not regular files are not recorded. Never throws: a file that cannot be
/// read or parsed becomes a one-line entry of `problems`.
enum DBDirectoryReader {
    /// The state and the `cert.pem` leaf (kept for building TLSA records without reading it again).
    struct Reading {
        var state: DBDirState
        var leaf: Leaf?
    }

    /// A leaf certificate: parsed when the files were read, its DER when the facts came from the cache
    /// (decoded only if a TLSA record needs it).
    enum Leaf: Sendable {
        case parsed(Certificate, der: [UInt8])
        case der([UInt8])

        var der: [UInt8] {
            switch self {
            case .parsed(_, let der), .der(let der): der
            }
        }

        var certificate: Certificate? {
            switch self {
            case .parsed(let certificate, _): certificate
            case .der(let der): try? Certificate(derEncoded: der)
            }
        }
    }

    static func nameOnly(_ name: String) -> Reading {
        Reading(
            state: DBDirState(
                name: name, files: [:], key: nil, request: nil, certificate: nil, chainFirst: nil, problems: [:]),
            leaf: nil)
    }

    /// `read(path:…)` through the observation cache: the regular files are `lstat`ed first (so a change
    /// during the read leaves a signature that no longer matches); when the cache knows the directory with
    /// those same signatures its facts are used, otherwise the files are read and the result stored. While
    /// the directory's own signature is the one stored (no entry added, removed or renamed since), the
    /// stored names are `lstat`ed without listing the directory.
    static func read(
        path: String, name: String, chainCache: ChainCache, validate: Bool, fallbackIssuers: [Certificate],
        cache: ObservationCache?
    ) -> Reading {
        guard let cache, let directory = PosixFiles.openDirectoryPath(path) else {
            return read(
                path: path, name: name, chainCache: chainCache, validate: validate, fallbackIssuers: fallbackIssuers)
        }
        defer { close(directory) }
        let own = PosixFiles.status(of: directory).map(FileSignature.init)
        var listed: [String: FileSignature]??
        func listing() -> [String: FileSignature]? {
            if let listed { return listed }
            let made = regularFileSignatures(path)
            listed = .some(made)
            return made
        }
        let entry = cache.directory(path, validate: validate) { entry in
            if let own, entry.directory == own, signatures(at: directory, entry.files.keys) == entry.files {
                return true
            }
            return listing().map { $0 == entry.files } ?? false
        }
        if let entry { return Reading(state: entry.state, leaf: entry.leafDER.map(Leaf.der)) }
        let listedFiles = listing()
        let reading = read(
            path: path, name: name, chainCache: chainCache, validate: validate, fallbackIssuers: fallbackIssuers)
        if let listedFiles {
            cache.store(
                ObservationCache.DirectoryEntry(
                    files: listedFiles, directory: own, state: reading.state, leafDER: reading.leaf?.der),
                path: path, validate: validate)
        }
        return reading
    }

    /// The signatures of the files `names` of the directory open as `directory` (`lstat`), as far as they
    /// are regular files.
    private static func signatures(at directory: Int32, _ names: some Sequence<String>) -> [String: FileSignature] {
        var result: [String: FileSignature] = [:]
        for name in names {
            guard let info = PosixFiles.status(at: directory, name, followLinks: false) else { continue }
            let signature = FileSignature(info)
            if signature.isRegularFile { result[name] = signature }
        }
        return result
    }

    /// The signatures of the regular files the reader records (not dot-files), nil when the directory
    /// cannot be listed.
    private static func regularFileSignatures(_ path: String) -> [String: FileSignature]? {
        PosixFiles.withDirectory(path) { directory -> [String: FileSignature]? in
            var signatures: [String: FileSignature] = [:]
            for entry in directory.entries
            where !entry.name.hasPrefix(".") && (entry.kind == nil || entry.kind == .regular) {
                guard let info = directory.status(entry.name, followLinks: false) else { return nil }
                let signature = FileSignature(info)
                if signature.isRegularFile { signatures[entry.name] = signature }
            }
            return signatures
        } ?? nil
    }

    /// Facts of `chain.pem` first certificates by file digest, shared by the services of one observation:
    /// thousands of services signed by the same CA have the same `chain.pem`, and its first certificate
    /// (a self-signed root for a one-level CA) costs a signature verification to describe.
    final class ChainCache: @unchecked Sendable {
        private var facts: [String: CertificateFacts] = [:]
        private var chains: [String: CertificateSetCheck.Chain] = [:]
        private let lock = NSLock()

        /// `chain.pem` decoded and checked (`CertificateSetCheck.chain`), by file digest.
        func chain(digest: String, bytes: [UInt8]) -> CertificateSetCheck.Chain {
            if let known = lock.withLock({ chains[digest] }) { return known }
            let made = CertificateSetCheck.chain(bytes)
            lock.withLock { chains[digest] = made }
            return made
        }

        func facts(digest: String, _ make: () throws -> CertificateFacts) throws -> CertificateFacts {
            if let known = lock.withLock({ facts[digest] }) { return known }
            let made = try make()
            lock.withLock { facts[digest] = made }
            return made
        }
    }

    /// - Parameters:
    ///   - validate: also check the set (`CertificateSetCheck`, recorded as `damage`) and the modes of the
    ///     key files (`modeDrift`): for the directories `curr` and `next` point to.
    ///   - fallbackIssuers: the local CAs' current certificates, for a leaf whose `chain.pem` is unusable.
    static func read(
        path: String, name: String, chainCache: ChainCache = ChainCache(), validate: Bool = false,
        fallbackIssuers: [Certificate] = []
    ) -> Reading {
        var files: [String: String] = [:]
        var problems: [String: String] = [:]
        var contents: [String: [UInt8]] = [:]
        guard let entries = PosixFiles.entries(path) else {
            problems["."] = "cannot list the directory"
            return Reading(
                state: DBDirState(
                    name: name, files: [:], key: nil, request: nil, certificate: nil, chainFirst: nil,
                    problems: problems),
                leaf: nil)
        }
        for entry in entries where !entry.name.hasPrefix(".") {
            let kind = entry.kind ?? PosixFiles.linkKind(path + "/" + entry.name)
            guard kind == .regular else { continue }
            switch PosixFiles.read(path + "/" + entry.name) {
            case .success(let bytes):
                files[entry.name] = ContentDigest.labelled(bytes)
                if parsedFiles.contains(entry.name) || (validate && checkedFiles.contains(entry.name)) {
                    contents[entry.name] = bytes
                }
            case .failure(let error):
                problems[entry.name] = error.description
            }
        }

        var key: KeyFacts?
        if let bytes = contents[Names.privateKey] {
            do { key = try keyFacts(bytes) } catch { problems[Names.privateKey] = oneLine(error) }
        }
        var request: RequestFacts?
        if let bytes = contents[Names.request] {
            do { request = try requestFacts(bytes) } catch { problems[Names.request] = oneLine(error) }
        }
        var leaf: Leaf?
        var certificate: CertificateFacts?
        if let bytes = contents[Names.certificate] {
            do {
                let block = try firstBlock(bytes, file: Names.certificate)
                let parsed = try CertificatePEM.decode(block, file: Names.certificate)
                certificate = try CertificateFacts(parsed, der: block.derBytes)
                leaf = .parsed(parsed, der: block.derBytes)
            } catch {
                problems[Names.certificate] = oneLine(error)
            }
        }
        var chainFirst: CertificateFacts?
        if let bytes = contents[Names.chain] {
            do {
                let block = try firstBlock(bytes, file: Names.chain)
                if let leaf, let certificate, block.derBytes == leaf.der {
                    chainFirst = certificate  // self-signed: chain.pem is the certificate itself
                } else if let digest = files[Names.chain] {
                    chainFirst = try chainCache.facts(digest: digest) {
                        try CertificateFacts(
                            CertificatePEM.decode(block, file: Names.chain), der: block.derBytes)
                    }
                }
            } catch {
                problems[Names.chain] = oneLine(error)
            }
        }
        var damage: [String: String]?
        var modeDrift: [String: String]?
        if validate {
            let chain = contents[Names.chain].map { bytes in
                files[Names.chain].map { chainCache.chain(digest: $0, bytes: bytes) }
                    ?? CertificateSetCheck.chain(bytes)
            }
            var parsedLeaf: (certificate: Certificate, der: [UInt8])?
            if case .parsed(let certificate, let der) = leaf { parsedLeaf = (certificate, der) }
            let found = CertificateSetCheck.check(
                CertificateSetCheck.Input(
                    key: contents[Names.privateKey], leaf: parsedLeaf, chain: chain,
                    fullchain: contents[Names.fullchain], bundle: contents[Names.bundle],
                    fallbackIssuers: fallbackIssuers))
            damage = found.isEmpty ? nil : found
            let modes = FileModes.drift(
                directory: path, names: ProductionFileRule.privateFiles.filter { files[$0] != nil },
                expected: { _ in 0o600 })
            modeDrift = modes.isEmpty ? nil : modes
        }
        return Reading(
            state: DBDirState(
                name: name, files: files, key: key, request: request, certificate: certificate,
                chainFirst: chainFirst, problems: problems, damage: damage, modeDrift: modeDrift),
            leaf: leaf)
    }

    private typealias Names = CertificateFileSet.Name
    private static let parsedFiles: Set<String> = [Names.privateKey, Names.request, Names.certificate, Names.chain]
    /// Read in full only when the set is checked.
    private static let checkedFiles: Set<String> = [Names.fullchain, Names.bundle]

    private static func firstBlock(_ bytes: [UInt8], file: String) throws -> PEMBlock {
        guard let block = try PEMBlock.parseAll(bytes, file: file).first else {
            throw SSLMError(.malformedInput, "\(file): no PEM block found")
        }
        return block
    }

    /// The public half of the key: its type and the SHA-256 of its DER SubjectPublicKeyInfo. The private
    /// key is parsed in memory only; nothing of it is kept.
    private static func keyFacts(_ bytes: [UInt8]) throws -> KeyFacts {
        let blocks = try PEMBlock.parseAll(bytes, file: Names.privateKey)
        guard let block = blocks.first(where: { $0.label.hasSuffix("PRIVATE KEY") }) else {
            throw SSLMError(.malformedInput, "\(Names.privateKey): no private key block found")
        }
        if block.label == "ENCRYPTED PRIVATE KEY" {
            throw SSLMError(.unsupported, "\(Names.privateKey): the private key is encrypted")
        }
        let embedded: (spki: [UInt8], key: Certificate.PublicKey)?
        do {
            embedded = try EmbeddedPublicKey.spki(of: block).map { ($0, try Certificate.PublicKey(derEncoded: $0)) }
        } catch {
            throw SSLMError(.malformedInput, "\(Names.privateKey): cannot decode the private key (damaged data)")
        }
        let publicKey = try embedded?.key ?? KeyPair(block: block, file: Names.privateKey).publicKey
        guard let spec = KeySpec(publicKey: publicKey) else {
            throw SSLMError(.unsupported, "\(Names.privateKey): unsupported private key type")
        }
        return KeyFacts(spec: spec, spkiSHA256: ContentDigest.sha256Hex(try embedded?.spki ?? publicKey.spkiDER()))
    }

    /// What the CSR asks for. The CSR's self-signature is not checked here (the observer reports, it does
    /// not validate; signing checks it).
    private static func requestFacts(_ bytes: [UInt8]) throws -> RequestFacts {
        let blocks = try PEMBlock.parseAll(bytes, file: Names.request)
        guard let block = blocks.first(where: { $0.label.contains("REQUEST") }) else {
            throw SSLMError(.malformedInput, "\(Names.request): no CERTIFICATE REQUEST block found")
        }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(derEncoded: block.derBytes)
        } catch {
            throw SSLMError(.malformedInput, "\(Names.request): cannot decode the certificate request")
        }
        var dns: [String] = []
        var ips: [String] = []
        let names = (try? request.attributes.extensionRequest?.extensions.subjectAlternativeNames) ?? nil
        for name in names ?? SubjectAlternativeNames() {
            switch AlternativeName(generalName: name) {
            case .dnsName(let value): dns.append(value)
            case .ipAddress(let value): ips.append(value)
            case nil: break
            }
        }
        return RequestFacts(
            spkiSHA256: ContentDigest.sha256Hex(try FastFacts.requestSPKI(der: block.derBytes)),
            commonName: DistinguishedNameText.first(.RDNAttributeType.commonName, in: request.subject),
            sans: dns + ips)
    }
}
