/// The framing of sslm's advisory cache files in `.sslm/` (`ConfigCache`, `ObservationCache`): a magic
/// line, the format version, the context (what every entry depends on besides its own files: sslm's
/// version, …), the body, and the SHA-256 of all of that.
///
/// A file is used whole or not at all: a wrong magic, version or context, a digest that does not match
/// (a flipped bit, a truncated write), or a file over its size limit reads as no cache. The entries are
/// used without reading their files again, so nothing else stands between a damaged byte and a decision.
public enum CacheFile {
    /// What identifies one kind of cache file.
    public struct Format: Sendable {
        public var magic: [UInt8]
        public var version: UInt64
        public var limit: BoundedFile.Limit

        public init(magic: String, version: UInt64, limit: BoundedFile.Limit) {
            self.magic = Array(magic.utf8)
            self.version = version
            self.limit = limit
        }
    }

    /// The file's bytes for `body` (`body` written by a `ByteWriter` after the header).
    public static func encode(_ body: [UInt8], format: Format, context: String) -> [UInt8] {
        var writer = ByteWriter()
        writer.unsigned(format.version)
        writer.string(context)
        var file = format.magic + writer.bytes + body
        file += ContentDigest.sha256(file)
        return file
    }

    /// The verified file at `path` without its digest, and the offset of its body; nil when there is no
    /// usable cache (missing, unreadable, oversized, damaged, or of another format or context).
    public static func read(_ path: String, format: Format, context: String) -> (bytes: [UInt8], body: Int)? {
        guard var bytes = try? BoundedFile.read(path, limit: format.limit, followLinks: false),
            let body = try? open(&bytes, format: format, context: context)
        else { return nil }
        return (bytes, body)
    }

    /// Checks `file` and removes its digest in place (no copy of a large cache); returns the offset of the
    /// body. Throws `ByteReader.Malformed` for anything but a complete file of this format and context.
    public static func open(_ file: inout [UInt8], format: Format, context: String) throws -> Int {
        let digestLength = 32
        guard file.count >= format.magic.count + digestLength, file.starts(with: format.magic) else {
            throw ByteReader.Malformed()
        }
        let end = file.count - digestLength
        guard ContentDigest.sha256(file[..<end]).elementsEqual(file[end...]) else { throw ByteReader.Malformed() }
        file.removeLast(digestLength)
        var reader = ByteReader(file, offset: format.magic.count)
        guard try reader.unsigned() == format.version, try reader.string() == context else {
            throw ByteReader.Malformed()
        }
        return reader.offset
    }
}
