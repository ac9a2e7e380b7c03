import Foundation

/// The binary form of the observation's values: the observation cache stores db directories in it, and the
/// fingerprint digests each service's state and production copy in it. Every field is written; reading
/// the same fields back gives an equal value (`ObservationCacheTests`, `ObservationCodingTests`).
extension ByteWriter {
    public mutating func keySpec(_ value: KeySpec) {
        switch value {
        case .ec(let curve): string("ec:" + curve.rawValue)
        case .rsa(let bits): string("rsa:\(bits)")
        case .ed25519: string("ed25519")
        }
    }

    public mutating func certificateFacts(_ value: CertificateFacts) {
        double(value.notBefore.timeIntervalSince1970)
        double(value.notAfter.timeIntervalSince1970)
        strings([value.serialHex, value.issuer, value.subject])
        optional(value.commonName) { $0.string($1) }
        strings(value.dnsNames)
        strings(value.ipAddresses)
        optional(value.keySpec) { $0.keySpec($1) }
        strings([value.publicKeyLabel, value.signatureAlgorithm, value.spkiSHA256, value.certificateSHA256])
        bool(value.isCA)
        bool(value.isSelfSigned)
    }

    public mutating func dbDirectory(_ value: DBDirState) {
        string(value.name)
        map(value.files)
        optional(value.key) { writer, key in
            writer.optional(key.spec) { $0.keySpec($1) }
            writer.string(key.spkiSHA256)
        }
        optional(value.request) { writer, request in
            writer.string(request.spkiSHA256)
            writer.optional(request.commonName) { $0.string($1) }
            writer.strings(request.sans)
        }
        optional(value.certificate) { $0.certificateFacts($1) }
        optional(value.chainFirst) { $0.certificateFacts($1) }
        map(value.problems)
        optional(value.damage) { $0.map($1) }
        optional(value.modeDrift) { $0.map($1) }
    }

    public mutating func link(_ value: LinkState) {
        switch value {
        case .absent: unsigned(0)
        case .valid(let name):
            unsigned(1)
            string(name)
        case .dangling(let target):
            unsigned(2)
            string(target)
        case .notALink: unsigned(3)
        }
    }

    public mutating func address(_ value: ServiceAddress) {
        string(value.group)
        string(value.service)
    }

    public mutating func serviceState(_ value: ServiceState) {
        address(value.address)
        bool(value.exists)
        link(value.curr)
        link(value.next)
        link(value.prev)
        unsigned(UInt64(value.dbDirs.count))
        for directory in value.dbDirs { dbDirectory(directory) }
        strings(value.strayEntries)
    }

    public mutating func productionService(_ value: ProductionServiceState) {
        address(value.address)
        optional(value.curr) { $0.map($1) }
        optional(value.next) { $0.map($1) }
        optional(value.leftovers) { $0.strings($1) }
        optional(value.modeDrift) { $0.map($1) }
    }
}

extension ByteReader {
    public mutating func keySpec() throws -> KeySpec {
        let text = try string()
        if text == "ed25519" { return .ed25519 }
        if text.hasPrefix("rsa:"), let bits = Int(text.dropFirst(4)) { return .rsa(bits: bits) }
        if text.hasPrefix("ec:"), let curve = ECCurve(rawValue: String(text.dropFirst(3))) { return .ec(curve) }
        throw Malformed()
    }

    public mutating func certificateFacts() throws -> CertificateFacts {
        let notBefore = Date(timeIntervalSince1970: try double())
        let notAfter = Date(timeIntervalSince1970: try double())
        let names = try strings()
        let commonName = try optional { try $0.string() }
        let dnsNames = try strings()
        let ipAddresses = try strings()
        let keySpec = try optional { try $0.keySpec() }
        let labels = try strings()
        guard names.count == 3, labels.count == 4 else { throw Malformed() }
        return CertificateFacts(
            notBefore: notBefore, notAfter: notAfter, serialHex: names[0], issuer: names[1], subject: names[2],
            commonName: commonName, dnsNames: dnsNames, ipAddresses: ipAddresses, keySpec: keySpec,
            publicKeyLabel: labels[0], signatureAlgorithm: labels[1], isCA: try bool(), isSelfSigned: try bool(),
            spkiSHA256: labels[2], certificateSHA256: labels[3])
    }

    public mutating func dbDirectory() throws -> DBDirState {
        let name = try string()
        let files = try map()
        let key = try optional { reader in
            KeyFacts(spec: try reader.optional { try $0.keySpec() }, spkiSHA256: try reader.string())
        }
        let request = try optional { reader in
            RequestFacts(
                spkiSHA256: try reader.string(), commonName: try reader.optional { try $0.string() },
                sans: try reader.strings())
        }
        return DBDirState(
            name: name, files: files, key: key, request: request,
            certificate: try optional { try $0.certificateFacts() },
            chainFirst: try optional { try $0.certificateFacts() }, problems: try map(),
            damage: try optional { try $0.map() }, modeDrift: try optional { try $0.map() })
    }

    public mutating func link() throws -> LinkState {
        switch try unsigned() {
        case 0: .absent
        case 1: .valid(try string())
        case 2: .dangling(try string())
        case 3: .notALink
        default: throw Malformed()
        }
    }

    public mutating func address() throws -> ServiceAddress {
        ServiceAddress(group: try string(), service: try string())
    }

    public mutating func serviceState() throws -> ServiceState {
        let address = try address()
        let exists = try bool()
        let links = (try link(), try link(), try link())
        var directories: [DBDirState] = []
        for _ in 0..<(try count()) { directories.append(try dbDirectory()) }
        return ServiceState(
            address: address, exists: exists, curr: links.0, next: links.1, prev: links.2, dbDirs: directories,
            strayEntries: try strings())
    }

    public mutating func productionService() throws -> ProductionServiceState {
        ProductionServiceState(
            address: try address(), curr: try optional { try $0.map() }, next: try optional { try $0.map() },
            leftovers: try optional { try $0.strings() }, modeDrift: try optional { try $0.map() })
    }
}
