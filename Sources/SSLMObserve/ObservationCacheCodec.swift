import Foundation
import SSLMCore

/// The binary form of what the observation cache keeps: file signatures and the facts of a db directory.
/// Every field is written; reading the same fields back gives an equal value (`ObservationCacheTests`).
extension ByteWriter {
    mutating func signature(_ value: FileSignature) {
        unsigned(value.device)
        unsigned(value.inode)
        signed(value.size)
        signed(value.modified)
        signed(value.changed)
        unsigned(UInt64(value.mode))
    }

    mutating func signatures(_ values: [String: FileSignature]) {
        unsigned(UInt64(values.count))
        for name in values.keys.sorted() {
            string(name)
            if let value = values[name] { signature(value) }
        }
    }

    mutating func keySpec(_ value: KeySpec) {
        switch value {
        case .ec(let curve): string("ec:" + curve.rawValue)
        case .rsa(let bits): string("rsa:\(bits)")
        case .ed25519: string("ed25519")
        }
    }

    mutating func certificateFacts(_ value: CertificateFacts) {
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

    mutating func dbDirectory(_ value: DBDirState) {
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
}

extension ByteReader {
    mutating func signature() throws -> FileSignature {
        FileSignature(
            device: try unsigned(), inode: try unsigned(), size: try signed(), modified: try signed(),
            changed: try signed(), mode: UInt32(truncatingIfNeeded: try unsigned()))
    }

    mutating func signatures() throws -> [String: FileSignature] {
        var values: [String: FileSignature] = [:]
        for _ in 0..<(try count()) {
            let name = try string()
            values[name] = try signature()
        }
        return values
    }

    mutating func keySpec() throws -> KeySpec {
        let text = try string()
        if text == "ed25519" { return .ed25519 }
        if text.hasPrefix("rsa:"), let bits = Int(text.dropFirst(4)) { return .rsa(bits: bits) }
        if text.hasPrefix("ec:"), let curve = ECCurve(rawValue: String(text.dropFirst(3))) { return .ec(curve) }
        throw Malformed()
    }

    mutating func certificateFacts() throws -> CertificateFacts {
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

    mutating func dbDirectory() throws -> DBDirState {
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
}

extension ObservationCache {
    /// The file: magic, format version, context, then the directory entries and the file entries, each
    /// sorted by key (the same observation writes the same bytes).
    func encode() -> [UInt8] {
        var writer = ByteWriter()
        writer.unsigned(Self.formatVersion)
        writer.string(context)
        writer.unsigned(UInt64(keptDirectories.count))
        for key in keptDirectories.keys.sorted() {
            guard let entry = keptDirectories[key] else { continue }
            writer.string(key)
            writer.signatures(entry.files)
            writer.dbDirectory(entry.state)
            writer.optional(entry.leafDER) { $0.raw($1) }
        }
        writer.unsigned(UInt64(keptFiles.count))
        for key in keptFiles.keys.sorted() {
            guard let entry = keptFiles[key] else { continue }
            writer.string(key)
            writer.signature(entry.signature)
            writer.string(entry.digest)
        }
        return Self.magic + writer.bytes
    }

    /// Throws `ByteReader.Malformed` for anything but a complete cache of this format and context.
    static func decode(_ bytes: [UInt8], context: String) throws -> (
        directories: [String: DirectoryEntry], files: [String: FileEntry]
    ) {
        guard bytes.starts(with: magic) else { throw ByteReader.Malformed() }
        var reader = ByteReader(bytes, offset: magic.count)
        guard try reader.unsigned() == formatVersion, try reader.string() == context else {
            throw ByteReader.Malformed()
        }
        var directories: [String: DirectoryEntry] = [:]
        for _ in 0..<(try reader.count()) {
            let key = try reader.string()
            directories[key] = DirectoryEntry(
                files: try reader.signatures(), state: try reader.dbDirectory(),
                leafDER: try reader.optional { try $0.raw() })
        }
        var files: [String: FileEntry] = [:]
        for _ in 0..<(try reader.count()) {
            let key = try reader.string()
            files[key] = FileEntry(signature: try reader.signature(), digest: try reader.string())
        }
        guard reader.isAtEnd else { throw ByteReader.Malformed() }
        return (directories, files)
    }
}
