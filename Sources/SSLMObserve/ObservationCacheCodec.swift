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
