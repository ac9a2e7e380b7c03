import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMTestSupport
import X509

/// `sslm-bench topdir`: writes a synthetic ssl-mgr topdir with N services signed by a local CA, for
/// measuring `sslm plan` / `sslm status` at scale (bench/README.md). Not a fixture for tests.
///
/// Layout (spec §3.1–3.4, §3.7):
/// - `conf.d/ssl-mgr.conf`: group `ca` [root, int], then groups `d0001.example`, `d0002.example`, … of
///   `perGroup` services `s0001`, `s0002`, … each; `prod_cert_dir = 'prod-certs'`, no `[[dns_primary]]`,
///   `[dns] tlsa_dirs = ['dns/tlsa']`, no server tables (nothing copied, nothing restarted).
/// - `conf.d/ca-info.conf`: `root` (self) and `int` (local, signed by root).
/// - `conf.d/<group>/<service>`: EC P-256 keys everywhere (fast to make); every `daneEvery`-th service
///   of a group has `dane_tls = [[443, 'tcp', 3, 1, 1]]` (SAN owners: no MX lookup, so no network).
///
/// With `inSync`, also the state a successful apply leaves: real keys, CSRs and certificates in
/// `certs/<g>/<s>/db/<ts>/` with `curr -> db/<ts>`, the production copies `prod-certs/<g>/<s>/curr/`
/// (without the CA private keys), `certs/<apex>/tlsa.<apex>` built by `TLSAFileBuilder` (the code the
/// observer and the executor use) and its copies in `dns/tlsa/` and `prod-certs/<apex>/`, and
/// `.sslm/lineage`. `sslm plan --detailed-exitcode` on such a topdir is expected to exit 0.
/// Files are written without fsync (speed); groups are generated concurrently.
struct TopdirGenerator {
    var services: Int
    var perGroup: Int = 100
    var daneEvery: Int = 10
    var inSync: Bool
    var out: String
    var now: Date

    static let caGroup = "ca"
    static let keySpec = KeySpec.ec(.secp256r1)

    struct GroupPlan: Sendable {
        var apex: String
        var services: [String]
    }

    var groups: [GroupPlan] {
        var result: [GroupPlan] = []
        var remaining = services
        var index = 1
        while remaining > 0 {
            let count = min(perGroup, remaining)
            result.append(
                GroupPlan(
                    apex: "d" + Self.pad(index, 4) + ".example", services: (1...count).map { "s" + Self.pad($0, 4) }))
            remaining -= count
            index += 1
        }
        return result
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let topdir = try absoluteEmptyDirectory(out)
        let groups = self.groups
        try writeConfig(topdir: topdir, groups: groups)
        let configTime = clock.now - start
        print("conf.d: \(services) services in \(groups.count) groups (+ ca/root, ca/int) in \(seconds(configTime)) s")
        guard inSync else { return }

        let loaded = ConfigLoader.load(topdir: topdir)
        guard let config = loaded.config else {
            loaded.diagnostics.forEach { print($0) }
            throw SSLMError(.configInvalid, "the generated conf.d does not load")
        }
        let stateStart = clock.now
        let dbName = Timestamps.dbDirectoryName(now)
        let ca = try writeCA(topdir: topdir, config: config, dbName: dbName)
        let failures = Failures()
        let writer = StateWriter(topdir: topdir, config: config, dbName: dbName, now: now, ca: ca)
        DispatchQueue.concurrentPerform(iterations: groups.count) { index in
            do {
                try writer.writeGroup(groups[index])
            } catch {
                failures.add("\(groups[index].apex): \(error)")
            }
        }
        if let first = failures.first { throw SSLMError(.ioFailure, first) }
        try ScratchTopdir.writeFile(
            UUID().uuidString.lowercased() + "\n", to: topdir + "/.sslm/lineage", makeParents: true)
        print(
            "state: \(services + 2) certificates, production copies, TLSA files in \(seconds(clock.now - stateStart)) s"
        )
        print("topdir: \(topdir)")
    }

    func seconds(_ duration: Duration) -> String {
        String(format: "%.2f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// `out` as an absolute path; created when missing, refused when it exists and is not empty.
    func absoluteEmptyDirectory(_ path: String) throws -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try FileManager.default.contentsOfDirectory(atPath: absolute)).isEmpty else {
                throw SSLMError(.invalidArgument, "\(absolute) exists and is not an empty directory")
            }
        } else {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        }
        return absolute
    }

    // MARK: conf.d

    func writeConfig(topdir: String, groups: [GroupPlan]) throws {
        let conf = topdir + "/conf.d"
        var main = """
            # Generated by `sslm-bench topdir --services \(services)`: \(groups.count) groups of up to \(perGroup)
            # services, all signed by the local CA ca/int (signed by ca/root).
            [globals]
                verb = false
                prod_cert_dir = 'prod-certs'
                logdir = 'logs'
                clean_keep = 5
                min_roll_mins = 90
                dns_check_delay = 0
                dns_xtra_ns = []
                post_copy_cmd = []

            [renew_info]
                target_90 = 30.0
                rand_adj_90 = 3.0

            [[groups]]
                domain = 'ca'
                services = ['root', 'int']
                active = true

            """
        for group in groups {
            main += """

                [[groups]]
                    domain = '\(group.apex)'
                    services = [\(group.services.map { "'\($0)'" }.joined(separator: ", "))]
                    active = true

                """
        }
        main += """

            [dns]
                restart_cmd = ''
                acme_dir = 'dns/include-acme'
                tlsa_dirs = ['dns/tlsa']
                depends = ['dns']

            """
        try ScratchTopdir.writeFile(main, to: conf + "/ssl-mgr.conf", makeParents: true)
        try ScratchTopdir.writeFile(
            """
            [root]
                ca_desc = 'Bench root CA'
                ca_type = 'self'

            [int]
                ca_desc = 'Bench intermediate CA'
                ca_type = 'local'

            """, to: conf + "/ca-info.conf")
        try ScratchTopdir.writeFile(
            caService(name: "root", signer: "self", commonName: "Bench Root CA", validityDays: 3650),
            to: conf + "/ca/root", makeParents: true)
        try ScratchTopdir.writeFile(
            caService(name: "int", signer: "root", commonName: "Bench Intermediate CA", validityDays: 90),
            to: conf + "/ca/int")
        for group in groups {
            try ScratchTopdir.makeDirectory(conf + "/" + group.apex)
            for (offset, service) in group.services.enumerated() {
                let dane = (offset + 1) % daneEvery == 0 ? "[[443, 'tcp', 3, 1, 1]]" : "[]"
                let cn = "\(service).\(group.apex)"
                try ScratchTopdir.writeFile(
                    """
                    name = '\(group.apex) \(service)'
                    group = '\(group.apex)'
                    service = '\(service)'
                    signing_ca = 'int'
                    dane_tls = \(dane)

                    [KeyOpts]
                        ktype = 'ec'
                        ec_algo = 'secp256r1'

                    [X509]
                        CN = '\(cn)'
                        O = 'Bench'
                        C = 'US'
                        sans = ['\(cn)', 'www.\(cn)']

                    """, to: conf + "/" + group.apex + "/" + service)
            }
        }
    }

    func caService(name: String, signer: String, commonName: String, validityDays: Int) -> String {
        """
        name = '\(commonName)'
        group = 'ca'
        service = '\(name)'
        signing_ca = '\(signer)'
        dane_tls = []

        [KeyOpts]
            ktype = 'ec'
            ec_algo = 'secp256r1'

        [X509]
            CN = '\(commonName)'
            O = 'Bench'
            C = 'US'
            sans = []

        [CA]
            sign_end_days = \(validityDays)
            digest = 'sha256'

        """
    }

    // MARK: certs

    /// The local CA as the executor leaves it: `certs/ca/{root,int}` and their production copies.
    func writeCA(topdir: String, config: Config, dbName: String) throws -> LocalCA {
        let rootAddress = ServiceAddress(group: Self.caGroup, service: "root")
        let intAddress = ServiceAddress(group: Self.caGroup, service: "int")
        guard let rootService = config.service(rootAddress), let intService = config.service(intAddress) else {
            throw SSLMError(.configInvalid, "ca/root or ca/int is not configured")
        }
        let rootPolicy = try SigningPolicy.fromCASection(
            signEndDays: rootService.signing?.validityDays, digest: rootService.signing?.digest,
            signerFile: rootService.file)
        let rootKey = try KeyPair.generate(Self.keySpec)
        let rootRequest = try CertificateRequestBuilder.make(
            subject: StateWriter.subject(rootService), key: rootKey, role: .certificateAuthority)
        let root = try LocalSigner.selfSign(
            request: rootRequest, key: rootKey, role: .certificateAuthority, policy: rootPolicy, now: now)
        let rootSet = try CertificateFileSet.selfSigned(key: rootKey, request: rootRequest, certificate: root)

        let intKey = try KeyPair.generate(Self.keySpec)
        let intRequest = try CertificateRequestBuilder.make(
            subject: StateWriter.subject(intService), key: intKey, role: .certificateAuthority)
        let rootSigner = try LocalSigner(certificate: root, key: rootKey, policy: rootPolicy)
        let intermediate = try rootSigner.sign(request: intRequest, role: .certificateAuthority, now: now)
        let intSet = try CertificateFileSet.signedByLocalCA(
            key: intKey, request: intRequest, certificate: intermediate, signerFullchainPEM: rootSet.fullchainPEM)

        let writer = StateWriter(topdir: topdir, config: config, dbName: dbName, now: now, ca: nil)
        try writer.writeService(rootAddress, files: StateWriter.files(of: rootSet, tlsa: nil))
        try writer.writeService(intAddress, files: StateWriter.files(of: intSet, tlsa: nil))

        let intPolicy = try SigningPolicy.fromCASection(
            signEndDays: intService.signing?.validityDays, digest: intService.signing?.digest,
            signerFile: intService.file)
        return LocalCA(
            signer: try LocalSigner(certificate: intermediate, key: intKey, policy: intPolicy),
            fullchainPEM: intSet.fullchainPEM)
    }
}

/// The signing CA of the leaves: `int` and its `fullchain.pem` (the leaves' `chain.pem`).
struct LocalCA: Sendable {
    var signer: LocalSigner
    var fullchainPEM: String
}

/// Writes the certs/ and production state of services and apexes.
struct StateWriter: Sendable {
    var topdir: String
    var config: Config
    var dbName: String
    var now: Date
    var ca: LocalCA?

    var prodRoot: String { config.globals.prodCertDir }

    static func subject(_ service: ServiceConfig) -> SubjectFields {
        let x509 = service.subject
        return SubjectFields(
            commonName: x509.commonName, organization: x509.organization, organizationalUnit: x509.organizationalUnit,
            locality: x509.locality, stateOrProvince: x509.state, country: x509.country, email: x509.email,
            subjectAlternativeNames: service.sans)
    }

    /// File name → content of a db directory, in writing order.
    static func files(of set: CertificateFileSet, tlsa: String?) -> [(name: String, text: String)] {
        typealias Name = CertificateFileSet.Name
        var files: [(name: String, text: String)] = [
            (Name.privateKey, set.privateKeyPEM), (Name.request, set.requestPEM ?? ""),
            (Name.certificate, set.certificatePEM), (Name.chain, set.chainPEM), (Name.fullchain, set.fullchainPEM),
            (Name.bundle, set.bundlePEM),
        ]
        if let tlsa { files.append((Name.tlsa, tlsa)) }
        return files
    }

    /// `certs/<g>/<s>/db/<ts>/…`, `curr -> db/<ts>` and `<prod>/<g>/<s>/curr/…`.
    func writeService(_ address: ServiceAddress, files: [(name: String, text: String)]) throws {
        let serviceDirectory = CertsLayout.serviceDirectory(topdir: topdir, address: address)
        let db = CertsLayout.dbDirectory(topdir: topdir, address: address) + "/" + dbName
        try ScratchTopdir.makeDirectory(db, mode: 0o750, parents: true)
        let prod = ProductionLayout.serviceDirectory(prodRoot: prodRoot, address: address, slot: .curr)
        try ScratchTopdir.makeDirectory(prod, mode: 0o750, parents: true)
        for file in files {
            let secret = CertificateFileSet.Name.privateKey == file.name || CertificateFileSet.Name.bundle == file.name
            try ScratchTopdir.writeFile(file.text, to: db + "/" + file.name, mode: secret ? 0o600 : 0o644)
            if ProductionLayout.includes(fileName: file.name, group: address.group) {
                try ScratchTopdir.writeFile(file.text, to: prod + "/" + file.name, mode: secret ? 0o600 : 0o644)
            }
        }
        guard symlink(CertsLayout.linkTarget(dbName: dbName), serviceDirectory + "/curr") == 0 else {
            throw SSLMError(.ioFailure, "\(serviceDirectory)/curr: symlink failed (errno \(errno))")
        }
    }

    /// Every service of a group (key, CSR, certificate signed by `int`, bundle, tlsa.rr), then the apex's
    /// TLSA file and its copies.
    func writeGroup(_ group: TopdirGenerator.GroupPlan) throws {
        guard let ca else { throw SSLMError(.invalidArgument, "no signing CA") }
        var certificates: [ServiceAddress: Certificate] = [:]
        for name in group.services {
            let address = ServiceAddress(group: group.apex, service: name)
            guard let service = config.service(address) else {
                throw SSLMError(.configInvalid, "\(address) is not configured")
            }
            let key = try KeyPair.generate(service.key)
            let request = try CertificateRequestBuilder.make(subject: Self.subject(service), key: key, role: .leaf)
            let certificate = try ca.signer.sign(request: request, role: .leaf, now: now)
            let set = try CertificateFileSet.signedByLocalCA(
                key: key, request: request, certificate: certificate, signerFullchainPEM: ca.fullchainPEM)
            var tlsa: String?
            if !service.dane.isEmpty {
                tlsa = try serviceTLSA(address: address, certificate: certificate)
            }
            try writeService(address, files: Self.files(of: set, tlsa: tlsa))
            certificates[address] = certificate
        }
        // certs/<apex>/tlsa.<apex>, exactly as `write_tlsa` builds it from the curr certificates.
        let output = TLSAFileBuilder.build(
            apex: group.apex, config: config, dns: nil, existingFile: nil, rolling: false
        ) { address, slot in
            slot == .curr ? certificates[address] : nil
        }
        guard let content = output.content else { return }
        let name = CertsLayout.tlsaFileName(apex: group.apex)
        try ScratchTopdir.writeFile(content, to: CertsLayout.tlsaFile(topdir: topdir, apex: group.apex))
        for directory in config.dns.tlsaDirs {
            try ScratchTopdir.writeFile(content, to: directory + "/" + name, makeParents: true)
        }
        try ScratchTopdir.writeFile(content, to: ProductionLayout.tlsaFile(prodRoot: prodRoot, apex: group.apex))
    }

    /// `db/<ts>/tlsa.rr` as `write_tlsa` (service) writes it: the records `TLSAFileBuilder` makes for this
    /// certificate, under a three-line header.
    func serviceTLSA(address: ServiceAddress, certificate: Certificate) throws -> String {
        let output = TLSAFileBuilder.build(
            apex: address.group, config: config, dns: nil, existingFile: nil, rolling: false
        ) { candidate, slot in
            candidate == address && slot == .next ? certificate : nil
        }
        let records = TLSAServiceFile.recordLines(of: output.content ?? "").flatMap { $0 }
        guard !records.isEmpty else { throw SSLMError(.invalidArgument, "\(address): no TLSA records") }
        return ([";;", ";; tlsa \(address.group) \(address.service) \(dbName)", ";;"] + records)
            .joined(separator: "\n") + "\n"
    }
}

/// Errors of concurrent group writers.
final class Failures: @unchecked Sendable {
    private var messages: [String] = []
    private let lock = NSLock()
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var first: String? { lock.withLock { messages.first } }
}
