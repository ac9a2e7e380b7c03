import Foundation
import SSLMCore
import SSLMPKI

/// The observation cache, `.sslm/observation-cache`: what the observer learnt from files that did not change
/// since, keyed by their `FileSignature`s, so that observing a topdir in sync is mostly `stat` calls.
///
/// Guarantees:
/// - Advisory: a hit gives exactly what reading the files would give; a missing, unreadable, damaged
///   (the file carries its SHA-256, `CacheFile`), foreign-version or oversized cache is ignored (everything
///   is read), so deleting it changes no decision.
/// - A db directory's entry is used only when its listing names the same regular files with the same
///   signatures; a production file's only when its signature is the same. Files changed within
///   `FileSignature.racyMargin` before the observation began are never stored (git's racily-clean rule).
/// - Entries depend on the local CAs' certificates (the set checks use them): a change of those, or of
///   sslm's version, drops every entry.
/// - Bounded: a write keeps only the entries of this observation; a cache over 1 GiB is not read.
/// - Only a run holding the writer lock writes it (`sslm plan` writes nothing).
public final class ObservationCache: @unchecked Sendable {
    /// A db directory's facts, and its leaf certificate's DER (for TLSA records).
    struct DirectoryEntry {
        var files: [String: FileSignature]
        /// The directory's own signature when it was not racy: while it is the same, no entry was added,
        /// removed or renamed in it, so its regular files are still `files.keys` (no listing needed).
        var directory: FileSignature? = nil
        var state: DBDirState
        var leafDER: [UInt8]?
    }

    struct FileEntry {
        var signature: FileSignature
        var digest: String
    }

    public static let relativePath = ".sslm/observation-cache"
    /// Version 4: the file ends with its SHA-256 (`CacheFile`).
    static let format = CacheFile.Format(
        magic: "sslm-observation-cache\n", version: 4,
        limit: BoundedFile.Limit(bytes: 1 << 30, kind: "the observation cache"))

    /// What every entry depends on besides its files: sslm's version and the local CAs' certificates.
    let context: String
    /// When the observation began (ns since the epoch): the racy bound.
    let startedAt: Int64
    /// Whether hits and new facts are kept for `write` (only a run that writes the cache keeps them: `plan`
    /// and `status` save the memory).
    let recording: Bool
    /// The loaded file's entries, each still encoded: where in `stored` its bytes are. An entry is decoded
    /// when the observer asks for it (on its worker threads), not all at once before observing.
    private let stored: [UInt8]
    private let directories: [String: Range<Int>]
    private let files: [String: Range<Int>]
    private(set) var keptDirectories: [String: DirectoryEntry] = [:]
    private(set) var keptFiles: [String: FileEntry] = [:]
    private let lock = NSLock()
    /// Hits and misses of this observation (for `sslm-bench` and the tests).
    public private(set) var hits = 0
    public private(set) var misses = 0

    init(
        context: String, stored: [UInt8] = [], directories: [String: Range<Int>] = [:],
        files: [String: Range<Int>] = [:], startedAt: Int64 = FileSignature.now(), recording: Bool = true
    ) {
        self.stored = stored
        self.recording = recording
        self.context = context
        self.startedAt = startedAt
        self.directories = directories
        self.files = files
    }

    /// The context string of a topdir whose local CAs' `cert.pem` files hold these bytes.
    public static func context(issuerFiles: [[UInt8]]) -> String {
        var text = "sslm " + SSLMVersion.current + "\n"
        for file in issuerFiles { text += ContentDigest.sha256Hex(file) + "\n" }
        return ContentDigest.sha256Hex(Array(text.utf8))
    }

    /// The cache of `topdir`, or an empty one when there is none or it cannot be used.
    /// `startedAt`: for tests, another racy bound than now.
    /// `recording`: false for a run that will not write the cache.
    public static func load(
        topdir: String, context: String, startedAt: Int64 = FileSignature.now(), recording: Bool = true
    ) -> ObservationCache {
        guard let file = CacheFile.read(topdir + "/" + relativePath, format: format, context: context),
            let (directories, files) = try? index(file.bytes, body: file.body)
        else {
            return ObservationCache(context: context, startedAt: startedAt, recording: recording)
        }
        return ObservationCache(
            context: context, stored: file.bytes, directories: directories, files: files, startedAt: startedAt,
            recording: recording)
    }

    /// Entries known from the loaded file (directories, files).
    public var loadedCount: (directories: Int, files: Int) { (directories.count, files.count) }

    /// The directory entries this observation would write (for the tests).
    var keptDirectoryEntries: [DirectoryEntry] { lock.withLock { Array(keptDirectories.values) } }

    /// Entries this observation would write.
    public var keptCount: Int { lock.withLock { keptDirectories.count + keptFiles.count } }

    /// Writes the entries of this observation (called only by a run holding the writer lock).
    public func write(topdir: String) throws {
        let bytes = lock.withLock { encode() }
        _ = try ConfinedDirectory.open(topdir + "/.sslm", below: topdir, createMode: 0o700)
        try AtomicFile.write(
            bytes, to: topdir + "/" + Self.relativePath, mode: AtomicFile.privateMode, root: topdir)
    }

    // MARK: - Lookups (called concurrently by the observer)

    /// The facts of a db directory whose regular files have these signatures, if known.
    func directory(_ path: String, validate: Bool, files signatures: [String: FileSignature]) -> DirectoryEntry? {
        directory(path, validate: validate) { $0.files == signatures }
    }

    /// The facts of a db directory, if known and `matches` accepts the stored entry (the caller compares the
    /// files' signatures).
    func directory(_ path: String, validate: Bool, matches: (DirectoryEntry) -> Bool) -> DirectoryEntry? {
        let key = Self.directoryKey(path, validate: validate)
        let entry = directories[key].flatMap { Self.decodeDirectory(stored, $0) }.flatMap { matches($0) ? $0 : nil }
        lock.withLock {
            count(hit: entry != nil)
            if recording, let entry { keptDirectories[key] = entry }
        }
        return entry
    }

    func store(_ entry: DirectoryEntry, path: String, validate: Bool) {
        guard recording, !entry.files.values.contains(where: { $0.isRacy(at: startedAt) }) else { return }
        var entry = entry
        if entry.directory?.isRacy(at: startedAt) == true { entry.directory = nil }
        lock.withLock { keptDirectories[Self.directoryKey(path, validate: validate)] = entry }
    }

    /// The digest of a file with this signature, if known.
    func digest(_ path: String, signature: FileSignature) -> String? {
        let entry = files[path].flatMap { Self.decodeFile(stored, $0) }.flatMap {
            $0.signature == signature ? $0 : nil
        }
        lock.withLock {
            count(hit: entry != nil)
            if recording, let entry { keptFiles[path] = entry }
        }
        return entry?.digest
    }

    func store(digest: String, path: String, signature: FileSignature) {
        guard recording, !signature.isRacy(at: startedAt) else { return }
        lock.withLock { keptFiles[path] = FileEntry(signature: signature, digest: digest) }
    }

    /// A directory's facts depend on whether its set was checked (`validate`).
    private static func directoryKey(_ path: String, validate: Bool) -> String { (validate ? "v:" : "n:") + path }

    /// Called with the lock held.
    private func count(hit: Bool) {
        if hit { hits += 1 } else { misses += 1 }
    }
}
