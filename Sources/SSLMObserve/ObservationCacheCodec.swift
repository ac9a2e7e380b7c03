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
    /// The file (`CacheFile`): the directory entries and the file entries, each sorted by key (the same
    /// observation writes the same bytes) and each entry's fields length-prefixed (so a load can index the
    /// entries without decoding them).
    func encode() -> [UInt8] {
        var writer = ByteWriter()
        writer.unsigned(UInt64(keptDirectories.count))
        for key in keptDirectories.keys.sorted() {
            guard let entry = keptDirectories[key] else { continue }
            var fields = ByteWriter()
            fields.signatures(entry.files)
            fields.optional(entry.directory) { $0.signature($1) }
            fields.dbDirectory(entry.state)
            fields.optional(entry.leafDER) { $0.raw($1) }
            writer.string(key)
            writer.raw(fields.bytes)
        }
        writer.unsigned(UInt64(keptFiles.count))
        for key in keptFiles.keys.sorted() {
            guard let entry = keptFiles[key] else { continue }
            var fields = ByteWriter()
            fields.signature(entry.signature)
            fields.string(entry.digest)
            writer.string(key)
            writer.raw(fields.bytes)
        }
        return CacheFile.encode(writer.bytes, format: Self.format, context: context)
    }

    /// Where each entry's fields are in `bytes`, a verified file (`CacheFile.open`) whose body starts at
    /// `body`, by key. Throws `ByteReader.Malformed` unless the body is exactly the two lists of entries (an
    /// entry whose fields do not decode is a miss later).
    static func index(_ bytes: [UInt8], body: Int) throws -> (
        directories: [String: Range<Int>], files: [String: Range<Int>]
    ) {
        var reader = ByteReader(bytes, offset: body)
        func entries() throws -> [String: Range<Int>] {
            let count = try reader.count()
            var ranges: [String: Range<Int>] = [:]
            ranges.reserveCapacity(count)
            for _ in 0..<count {
                let key = try reader.string()
                let length = try reader.count()
                ranges[key] = reader.offset..<reader.offset + length
                try reader.skip(length)
            }
            return ranges
        }
        let directories = try entries()
        let files = try entries()
        guard reader.isAtEnd else { throw ByteReader.Malformed() }
        return (directories, files)
    }

    /// The directory entry whose fields are `range` of `bytes`; nil when they do not decode exactly.
    static func decodeDirectory(_ bytes: [UInt8], _ range: Range<Int>) -> DirectoryEntry? {
        var reader = ByteReader(bytes, offset: range.lowerBound)
        guard
            let entry = try? DirectoryEntry(
                files: reader.signatures(), directory: reader.optional { try $0.signature() },
                state: reader.dbDirectory(), leafDER: reader.optional { try $0.raw() }),
            reader.offset == range.upperBound
        else { return nil }
        return entry
    }

    /// The file entry whose fields are `range` of `bytes`; nil when they do not decode exactly.
    static func decodeFile(_ bytes: [UInt8], _ range: Range<Int>) -> FileEntry? {
        var reader = ByteReader(bytes, offset: range.lowerBound)
        guard let entry = try? FileEntry(signature: reader.signature(), digest: reader.string()),
            reader.offset == range.upperBound
        else { return nil }
        return entry
    }
}
