import Foundation
import SSLMConfig
import SSLMCore

/// Builds observed states for the planner without touching a disk: consistent certificate facts
/// (keys match certificates, leaves name their CA's subject, chains equal their CA's fullchain),
/// digests derived from names, production and TLSA copies in sync unless a case breaks them.
struct StateBuilder {
    let config: Config
    private(set) var services: [ServiceAddress: ServiceState] = [:]
    var production: [ServiceAddress: ProductionServiceState] = [:]
    var tlsaFile: [String: String?] = [:]
    var tlsaExpected: [String: String?] = [:]
    var tlsaCopies: [String: [String: String?]] = [:]
    var prodTLSA: [String: String?] = [:]
    var tlsaNote: [String: String] = [:]
    var dns: [DNSFacts] = []
    var unconfigured: [ServiceAddress] = []
    /// `certs/` directories the config no longer describes (`Observation.orphans`).
    var orphans: [OrphanState] = []
    /// Ledger records (`Observation.certificateRecords`), by certificate SHA-256.
    var certificateRecords: [String: CertificateRecord] = [:]
    var pendingDeployment: [String] = []
    var lineage: String? = "00000000-0000-4000-8000-000000000001"

    init(config: Config) { self.config = config }

    static func address(_ text: String) -> ServiceAddress {
        let parts = text.split(separator: "/").map(String.init)
        return ServiceAddress(group: parts[0], service: parts[1])
    }

    static func digest(_ text: String) -> String { ContentDigest.labelled(Array(text.utf8)) }

    static func dbName(_ date: Date) -> String {
        Timestamps.dbDirectoryName(date, timeZone: TimeZone(secondsFromGMT: 0) ?? .current)
    }

    /// The subject a local CA's certificate carries (what its leaves name as issuer).
    func subject(of address: ServiceAddress) -> String {
        let fields = config.service(address)?.subject
        return "CN=\(fields?.commonName ?? address.service),O=\(fields?.organization ?? ""),C=\(fields?.country ?? "")"
    }

    /// Issues a certificate for `service` into a db dir and points `slot` (curr/next/prev) at it.
    /// - Parameters:
    ///   - days: lifetime; default: the signer's `[CA] sign_end_days`.
    ///   - key: default: the configured key. `sans`: default: the configured SANs.
    @discardableResult
    mutating func issue(
        _ service: String, slot: String, at notBefore: Date, days: Double? = nil,
        key: KeySpec? = nil, sans: [String]? = nil, issuer: String? = nil,
        files: Set<String>? = nil, chain: String? = nil, serial: String? = nil
    ) -> String {
        let address = Self.address(service)
        let name = Self.dbName(notBefore)
        let serviceConfig = config.service(address)
        var lifetime = days ?? 90
        var issuerSubject = issuer ?? subject(of: address)
        var chainDigest = chain
        var selfSigned = true
        if days == nil, let serviceConfig {
            switch serviceConfig.signer {
            case .selfSigned: lifetime = Double(serviceConfig.signing?.validityDays ?? 90)
            case .authority(let ca):
                let caAddress = ServiceAddress(group: "ca", service: ca)
                lifetime = Double(config.service(caAddress)?.signing?.validityDays ?? 90)
            }
        }
        if let serviceConfig, case .authority(let ca) = serviceConfig.signer {
            let caAddress = ServiceAddress(group: "ca", service: ca)
            selfSigned = false
            if issuer == nil { issuerSubject = subject(of: caAddress) }
            if chainDigest == nil, let caState = services[caAddress], let caCurr = caState.dbDir(caState.curr) {
                chainDigest = caCurr.files["fullchain.pem"]
            }
        }
        let keySpec = key ?? serviceConfig?.key ?? .default
        let spki = Self.digest("spki/\(service)/\(name)").dropFirst(7).description
        let sanList = sans ?? serviceConfig?.sans ?? []
        let facts = CertificateFacts(
            notBefore: notBefore, notAfter: notBefore.addingTimeInterval(lifetime * 86_400),
            serialHex: serial ?? Self.digest("serial/\(service)/\(name)").dropFirst(7).prefix(16).description,
            issuer: issuerSubject, subject: subject(of: address), commonName: serviceConfig?.subject.commonName,
            dnsNames: sanList.filter { !HostName.isIPv4($0) && !HostName.isIPv6($0) },
            ipAddresses: sanList.filter { HostName.isIPv4($0) || HostName.isIPv6($0) },
            keySpec: keySpec, publicKeyLabel: "pubkey-\(keySpec)", signatureAlgorithm: "ecdsa-with-SHA384",
            isCA: address.group == "ca", isSelfSigned: selfSigned,
            spkiSHA256: spki, certificateSHA256: Self.digest("cert/\(service)/\(name)").dropFirst(7).description)
        var fileNames = files ?? ["privkey.pem", "csr.pem", "cert.pem", "chain.pem", "fullchain.pem", "bundle.pem"]
        if files == nil, serviceConfig?.dane.isEmpty == false { fileNames.insert("tlsa.rr") }
        var digests: [String: String] = [:]
        for file in fileNames { digests[file] = Self.digest("\(service)/\(name)/\(file)") }
        if let chainDigest, fileNames.contains("chain.pem") { digests["chain.pem"] = chainDigest }
        if selfSigned, fileNames.contains("chain.pem") { digests["chain.pem"] = digests["cert.pem"] }
        let directory = DBDirState(
            name: name, files: digests,
            key: fileNames.contains("privkey.pem") ? KeyFacts(spec: keySpec, spkiSHA256: spki) : nil,
            request: fileNames.contains("csr.pem")
                ? RequestFacts(spkiSHA256: spki, commonName: serviceConfig?.subject.commonName, sans: sanList) : nil,
            certificate: fileNames.contains("cert.pem") ? facts : nil,
            chainFirst: nil, problems: [:])
        var state =
            services[address]
            ?? ServiceState(
                address: address, exists: true, curr: .absent, next: .absent,
                prev: .absent, dbDirs: [], strayEntries: [])
        var dirs = state.dbDirs.filter { $0.name != name }
        dirs.append(directory)
        state = ServiceState(
            address: address, exists: true, curr: state.curr, next: state.next, prev: state.prev,
            dbDirs: dirs, strayEntries: state.strayEntries)
        setLink(&state, slot, .valid(name))
        services[address] = state
        return name
    }

    mutating func link(_ service: String, _ slot: String, _ link: LinkState) {
        let address = Self.address(service)
        var state =
            services[address]
            ?? ServiceState(
                address: address, exists: true, curr: .absent, next: .absent,
                prev: .absent, dbDirs: [], strayEntries: [])
        setLink(&state, slot, link)
        services[address] = state
    }

    mutating func editDirectory(_ service: String, _ slot: String, _ edit: (inout DBDirState) -> Void) {
        let address = Self.address(service)
        guard let state = services[address], let current = state.dbDir(link(of: state, slot)) else { return }
        var directory = current
        edit(&directory)
        let dirs = state.dbDirs.map { $0.name == directory.name ? directory : $0 }
        services[address] = ServiceState(
            address: address, exists: true, curr: state.curr, next: state.next,
            prev: state.prev, dbDirs: dirs, strayEntries: state.strayEntries)
    }

    /// Adds old, unlinked db directories.
    mutating func addOldDirectories(_ service: String, count: Int, before: Date) {
        let address = Self.address(service)
        guard let state = services[address] else { return }
        var dirs = state.dbDirs
        for index in 1...count {
            let name = Self.dbName(before.addingTimeInterval(-Double(index) * 86_400))
            dirs.append(
                DBDirState(
                    name: name, files: ["cert.pem": Self.digest(name)], key: nil, request: nil,
                    certificate: nil, chainFirst: nil, problems: [:]))
        }
        services[address] = ServiceState(
            address: address, exists: true, curr: state.curr, next: state.next,
            prev: state.prev, dbDirs: dirs, strayEntries: state.strayEntries)
    }

    private func link(of state: ServiceState, _ slot: String) -> LinkState {
        switch slot {
        case "curr": state.curr
        case "next": state.next
        default: state.prev
        }
    }

    private func setLink(_ state: inout ServiceState, _ slot: String, _ link: LinkState) {
        state = ServiceState(
            address: state.address, exists: true,
            curr: slot == "curr" ? link : state.curr,
            next: slot == "next" ? link : state.next,
            prev: slot == "prev" ? link : state.prev,
            dbDirs: state.dbDirs, strayEntries: state.strayEntries)
    }

    /// Production, TLSA files and their copies as a successful apply leaves them.
    mutating func syncEverything() {
        for (address, state) in services {
            production[address] = ProductionServiceState(
                address: address,
                curr: state.dbDir(state.curr).map {
                    ProductionFileRule.productionFiles($0.files, group: address.group)
                },
                next: state.dbDir(state.next).map { ProductionFileRule.productionFiles($0.files, group: address.group) }
            )
        }
        for apex in Set(services.keys.map(\.group)) where apex != "ca" {
            let expected = expectedTLSA(apex)
            tlsaFile[apex] = expected
            prodTLSA[apex] = expected
            var copies: [String: String?] = [:]
            for dir in config.dns.tlsaDirs { copies[dir] = expected }
            tlsaCopies[apex] = copies
        }
    }

    /// A digest standing for the records curr and next of the apex's DANE services imply.
    func expectedTLSA(_ apex: String) -> String? {
        var parts: [String] = []
        for address in services.keys.sorted() where address.group == apex {
            guard config.service(address)?.dane.isEmpty == false, let state = services[address] else { continue }
            for slot in [state.curr, state.next] {
                if let certificate = state.dbDir(slot)?.certificate { parts.append(certificate.spkiSHA256) }
            }
        }
        return parts.isEmpty ? nil : Self.digest(parts.joined(separator: ","))
    }

    /// Per apex: the DANE publication to observe instead of the default (`publication(_:)`).
    var daneOverride: [String: DANEPublication] = [:]
    /// False: no name server was asked (the default publication has no servers).
    var daneObserved = true

    /// What a healthy DNS serves: the records of every DANE service's curr and next (`_<port>._<proto>.<apex>`
    /// owners, the certificate's SPKI digest as data), served by the primary and a secondary at one serial,
    /// each record since its certificate's notBefore.
    func publication(_ apex: String) -> DANEPublication {
        var expected: [DANESlotRecords] = []
        var firstSeen: [String: Date] = [:]
        for address in services.keys.sorted() where address.group == apex {
            guard let service = config.service(address), !service.dane.isEmpty, let state = services[address] else {
                continue
            }
            for (slot, link) in [("curr", state.curr), ("next", state.next)] {
                guard let certificate = state.dbDir(link)?.certificate else { continue }
                let records = service.dane.map { spec in
                    DANERecord(
                        owner: "_\(spec.port)._\(spec.proto.lowercased()).\(apex)", ttl: service.daneTTL,
                        rdata: "\(spec.usage) \(spec.selector) \(spec.matchingType) \(certificate.spkiSHA256)")
                }
                for record in records {
                    firstSeen[record.key] = min(firstSeen[record.key] ?? .distantFuture, certificate.notBefore)
                }
                expected.append(DANESlotRecords(service: address.service, slot: slot, records: records))
            }
        }
        let keys = expected.flatMap { $0.records.map(\.key) }
        let servers =
            daneObserved
            ? [
                ServedTLSA(
                    server: "primary (127.0.0.1:53)", isPrimary: true, serial: 2_027_010_100, records: keys,
                    failure: nil),
                ServedTLSA(
                    server: "ns2.example.com (127.0.0.2:53)", isPrimary: false, serial: 2_027_010_100, records: keys,
                    failure: nil),
            ] : nil
        return DANEPublication(
            apex: apex, expected: expected, servers: servers,
            failure: daneObserved ? nil : "the name servers were not asked",
            firstSeen: daneObserved ? firstSeen : [:])
    }

    func build() -> Observation {
        let apexes = Set(services.keys.map(\.group)).union(tlsaFile.keys).filter { $0 != "ca" }
        var groups: [GroupState] = []
        for apex in apexes.sorted() {
            let hasDANE = config.services.values.contains { $0.address.group == apex && !$0.dane.isEmpty }
            guard hasDANE else { continue }
            groups.append(
                GroupState(
                    apex: apex, tlsaFile: tlsaFile[apex] ?? nil,
                    tlsaExpected: tlsaExpected[apex] ?? expectedTLSA(apex),
                    tlsaNote: tlsaNote[apex], tlsaCopies: tlsaCopies[apex] ?? [:]))
        }
        var observation = Observation(
            topdir: config.topdir, lineage: lineage, localHostNames: ["sslm-host"],
            services: Array(services.values), groups: groups,
            production: ProductionState(
                root: config.globals.prodCertDir, exists: !production.isEmpty,
                services: Array(production.values), tlsaFiles: prodTLSA),
            dns: dns, unconfigured: unconfigured, pendingDeployment: pendingDeployment)
        let publications = groups.map { daneOverride[$0.apex] ?? publication($0.apex) }
        observation.danePublications = publications.isEmpty ? nil : publications
        if !certificateRecords.isEmpty { observation.certificateRecords = certificateRecords }
        if !orphans.isEmpty {
            observation.orphans = orphans.sorted { $0.address < $1.address }
            observation.refreshFingerprint()
        }
        return observation
    }
}

/// Marks observed certificates as issued by their service's ACME CA (`.sslm/certificates.json`), ordered
/// by the account sslm holds for that CA and the service's email.
enum ACMEIssuance {
    static let account = "https://acme.example/acct/1"

    static func record(
        _ observation: inout Observation, config: Config, slot: KeyPath<ServiceState, LinkState> = \.curr,
        edit: (inout CertificateRecord) -> Void = { _ in }
    ) {
        var records = observation.certificateRecords ?? [:]
        var accounts = observation.acmeAccounts ?? [:]
        for state in observation.services {
            guard let service = config.service(state.address), case .authority(let name) = service.signer,
                let acme = config.certificateAuthorities[name]?.acme,
                let certificate = state.dbDir(state[keyPath: slot])?.certificate
            else { continue }
            var record = CertificateRecord(ca: name, directory: acme.directoryURL, account: account)
            edit(&record)
            records[certificate.certificateSHA256] = record
            accounts[CertificateRecord.accountKey(directory: acme.directoryURL, email: service.subject.email)] = account
        }
        observation.certificateRecords = records
        observation.acmeAccounts = accounts
    }
}
