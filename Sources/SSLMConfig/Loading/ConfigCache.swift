import Foundation
import SSLMCore

/// The parsed-config cache, `.sslm/config-cache`: each service file's parse, keyed by the SHA-256 of the
/// file's exact bytes, so that loading an unchanged `conf.d/` reads the files (as the config digest needs)
/// but parses none of them again.
///
/// Guarantees:
/// - Advisory: an entry is used only for a file whose bytes hash to the digest it was stored with, at the
///   same path, with the same global `[renew_info]` and sslm version (the only other inputs of a service
///   parse); a missing, unreadable, damaged, foreign or oversized cache is ignored and every file parsed.
///   Deleting it changes nothing but the time.
/// - Keyed by content, not by `stat`: a file edited in place with its size and `mtime` restored, or renamed
///   over another, has other bytes, hence another digest. There is no racy window.
/// - Only clean parses are kept: a file with any diagnostic (error or warning) is parsed every time, so its
///   messages are never replayed from the cache.
/// - Bounded: a write keeps only the entries of this load; only a run holding the writer lock writes it
///   (`sslm plan`, `status` and `config check` write nothing). `SSLM_CONFIG_CACHE=off` ignores it.
public final class ConfigCache: @unchecked Sendable {
    /// How a load uses the cache.
    public enum Use: Sendable {
        /// Neither read nor written.
        case off
        /// Read; nothing kept for a write.
        case read
        /// Read, and this load's entries kept for `write` (a run holding the writer lock).
        case record

        /// `use`, or `.off` when `SSLM_CONFIG_CACHE=off` is set.
        public static func fromEnvironment(_ use: Use) -> Use {
            ProcessInfo.processInfo.environment["SSLM_CONFIG_CACHE"] == "off" ? .off : use
        }
    }

    /// A stored parse: the content digest of the file and the encoded `ParsedService`.
    struct Entry {
        var digest: String
        var encoded: ArraySlice<UInt8>
    }

    public static let relativePath = ".sslm/config-cache"
    static let format = CacheFile.Format(
        magic: "sslm-config-cache\n", version: 1, limit: BoundedFile.Limit(bytes: 256 << 20, kind: "the config cache"))

    let context: String
    /// Whether this load's entries are kept for `encode` (a run holding the writer lock).
    public let recording: Bool
    private let entries: [String: Entry]
    private var kept: [String: Entry] = [:]
    private let lock = NSLock()
    /// Files answered by the cache, and files parsed (for `sslm-bench` and the tests).
    public private(set) var hits = 0
    public private(set) var misses = 0

    init(context: String, entries: [String: Entry], recording: Bool) {
        self.context = context
        self.entries = entries
        self.recording = recording
    }

    /// What every entry depends on besides its file: sslm's version and the global `[renew_info]` (the
    /// default of a service without its own).
    static func context(globalRenewInfo: RenewInfo) -> String {
        var writer = ByteWriter()
        writer.string("sslm " + SSLMVersion.current)
        writer.renewInfo(globalRenewInfo)
        return ContentDigest.sha256Hex(writer.bytes)
    }

    /// The cache of `topdir` for this context, or an empty one when there is none or it cannot be used.
    static func load(topdir: String, globalRenewInfo: RenewInfo, recording: Bool) -> ConfigCache {
        let context = context(globalRenewInfo: globalRenewInfo)
        guard let file = CacheFile.read(topdir + "/" + relativePath, format: format, context: context),
            let entries = try? decode(file.bytes, body: file.body)
        else { return ConfigCache(context: context, entries: [:], recording: recording) }
        return ConfigCache(context: context, entries: entries, recording: recording)
    }

    /// The stored parse of the service file `key` (`<group>/<service>`) whose bytes have this digest.
    func parsed(_ key: String, digest: String) -> ParsedService? {
        let found = entries[key].flatMap { $0.digest == digest ? $0 : nil }
        let parsed = found.flatMap { entry -> ParsedService? in
            var reader = ByteReader(Array(entry.encoded))
            guard let value = try? reader.parsedService(), reader.isAtEnd else { return nil }
            return value
        }
        lock.withLock {
            if parsed != nil { hits += 1 } else { misses += 1 }
            if recording, let found, parsed != nil { kept[key] = found }
        }
        return parsed
    }

    /// Keeps a clean parse for the write.
    func store(_ parsed: ParsedService, key: String, digest: String) {
        guard recording else { return }
        var writer = ByteWriter()
        writer.parsedService(parsed)
        let entry = Entry(digest: digest, encoded: writer.bytes[...])
        lock.withLock { kept[key] = entry }
    }

    /// Entries this load would write.
    public var keptCount: Int { lock.withLock { kept.count } }

    /// The file (`CacheFile`): the entries sorted by key, so the same load writes the same bytes. Written by
    /// a run holding the writer lock (see `SSLMCLI.ConfigSession`).
    public func encode() -> [UInt8] {
        lock.withLock {
            var writer = ByteWriter()
            writer.unsigned(UInt64(kept.count))
            for key in kept.keys.sorted() {
                guard let entry = kept[key] else { continue }
                writer.string(key)
                writer.string(entry.digest)
                writer.raw(Array(entry.encoded))
            }
            return CacheFile.encode(writer.bytes, format: Self.format, context: context)
        }
    }

    /// The entries of a verified file (`CacheFile.open`) whose body starts at `body`; throws
    /// `ByteReader.Malformed` unless the body is exactly the entries. They stay encoded until a file asks
    /// for one.
    static func decode(_ bytes: [UInt8], body: Int) throws -> [String: Entry] {
        var reader = ByteReader(bytes, offset: body)
        let count = try reader.count()
        var entries: [String: Entry] = [:]
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = try reader.string()
            let digest = try reader.string()
            let length = try reader.count()
            let start = reader.offset
            try reader.skip(length)
            entries[key] = Entry(digest: digest, encoded: bytes[start..<start + length])
        }
        guard reader.isAtEnd else { throw ByteReader.Malformed() }
        return entries
    }
}
