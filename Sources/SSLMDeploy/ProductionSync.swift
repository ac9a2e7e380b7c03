import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Replaces a production directory (`<prod>/<group>/<service>/curr/` or `next/`) as a whole.
///
/// `replaceDirectory` builds the new set in a hidden sibling (`.curr.new-<random>`), fsyncs every file and
/// the directory, then exchanges it with the live directory in one step — `renameat2(RENAME_EXCHANGE)` on
/// Linux. At no instant does the directory hold a key of one set and a certificate of another (as a
/// file-by-file copy such as `rsync` into the live directory does): a reader that opens the directory once
/// and its files relative to it (`openat`), or reads `bundle.pem`, gets one whole set. (A reader that opens
/// two files by full path can still straddle a swap; servers are restarted after the sync.) Where the
/// exchange is unavailable (not Linux, or a file system without it) the old directory is renamed aside and
/// the new one renamed in: readers may then briefly find no directory, but still never a mix. Leftover
/// hidden siblings of an interrupted run are removed first, and so are the temporary files of an interrupted
/// `copyFile`. Not for directories other processes write into.
public enum ProductionSync {
    /// Mode of directories created in production (spec §3.4).
    public static let directoryMode: mode_t = 0o750

    /// Makes `destination` a directory holding exactly `files` (names) copied from `source`, keeping
    /// each file's modification time and giving it `mode(name)` (its mode in `source` when `mode` is nil).
    /// Parents are created (0750) as needed. With `root` (the
    /// configured `prod_cert_dir`, which may itself be a link) no directory between `root` and
    /// `destination` may be a symlink, nor `destination` itself: every step works relative to directories
    /// opened with `O_NOFOLLOW` (`ConfinedDirectory`), so nothing is written through a planted link.
    public static func replaceDirectory(
        at destination: String, copying files: [String], from source: String, root: String? = nil,
        mode: ((String) -> mode_t)? = nil
    ) throws {
        let (parentPath, base) = split(destination)
        let parent = try ConfinedDirectory.open(parentPath, below: root ?? parentPath, createMode: directoryMode)
        try parent.refuseSymlink(base)
        try removeLeftovers(of: base, in: parent)
        let stagingName = "." + base + ".new-" + randomTag()
        let staging = try makeDirectory(stagingName, in: parent)
        do {
            for name in files {
                guard SafeName.isSafe(name) else {
                    throw SSLMError(.invalidArgument, "\"\(SafeName.printable(name))\" is not a plain file name")
                }
                try copyFile(
                    from: source + "/" + name, into: staging, name: name, reportAs: destination + "/" + name,
                    mode: mode?(name))
            }
            try staging.sync()
            try install(stagingName, at: destination, base: base, in: parent)
        } catch {
            try? parent.removeTree(stagingName)
            throw error
        }
    }

    /// Removes `destination` (a production `next/` that no longer exists in `certs/`) as a whole; absent is
    /// fine. Where the exchange is available an empty directory is exchanged with it first, so a crash before
    /// the end leaves an empty `destination` (visible, and removed by the next sync) rather than only a
    /// hidden copy of the old set. Leftover hidden siblings of an interrupted run are removed first. `root`
    /// as in `replaceDirectory`.
    public static func removeDirectory(at destination: String, root: String? = nil) throws {
        let (parentPath, base) = split(destination)
        guard exists(parentPath) else { return }
        let parent = try ConfinedDirectory.open(parentPath, below: root ?? parentPath)
        let kind = parent.kind(of: base)
        guard kind != .missing else { return }
        if kind == .symlink { throw ConfinedDirectory.refusal(destination, target: parent.linkTarget(base)) }
        try removeLeftovers(of: base, in: parent)
        let asideName = "." + base + ".old-" + randomTag()
        if kind == .directory {
            _ = try makeDirectory(asideName, in: parent)
            WriteCheckpoint.reach(.beforeRename, destination)
            if DirectoryExchange.exchange(parent.descriptor, asideName, base) {
                // `destination` is empty now; `aside` holds the old set.
                WriteCheckpoint.reach(.afterRename, destination)
                try parent.sync()
                try parent.removeTree(asideName)
                try parent.removeTree(base)
                try parent.sync()
                return
            }
            try parent.removeTree(asideName)
        } else {
            WriteCheckpoint.reach(.beforeRename, destination)
        }
        guard renameat(parent.descriptor, base, parent.descriptor, asideName) == 0 else {
            throw ioError("cannot move \(destination) aside")
        }
        WriteCheckpoint.reach(.afterRename, destination)
        try parent.sync()
        try parent.removeTree(asideName)
    }

    /// Copies one file atomically (temporary file, fsync, rename, directory fsync), keeping its
    /// modification time and its mode (permission bits) unless `mode` is given. Used for production files and TLSA file copies. The source
    /// must be a regular file (not a symlink); the destination's directories below `root` and the
    /// destination itself must not be symlinks (see `replaceDirectory`).
    public static func copyFile(
        from source: String, to destination: String, root: String? = nil, mode: mode_t? = nil
    ) throws {
        let (parentPath, base) = split(destination)
        let parent = try ConfinedDirectory.open(parentPath, below: root ?? parentPath)
        try parent.refuseSymlink(base)
        try copyFile(from: source, into: parent, name: base, reportAs: destination, mode: mode)
    }

    /// Creates `path` and missing parents with mode 0750 (existing directories are left as they are);
    /// below `root` none may be a symlink.
    public static func makeDirectories(_ path: String, root: String? = nil) throws {
        _ = try ConfinedDirectory.open(path, below: root ?? path, createMode: directoryMode)
    }

    /// fsyncs a directory so that renames in it are durable.
    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open directory \(directory)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ioError("cannot fsync directory \(directory)") }
    }

    /// Removes a directory tree (symlinks are removed, never followed).
    public static func removeTree(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw SSLMError(.ioFailure, "cannot remove \(path)", underlying: error)
        }
    }

    // MARK: - Internals

    /// Copies `source` to `name` in `directory` through a temporary file; `reportAs` is the destination's
    /// path for messages and checkpoints.
    private static func copyFile(
        from source: String, into directory: ConfinedDirectory, name: String, reportAs destination: String,
        mode: mode_t? = nil
    ) throws {
        let input = open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard input >= 0 else {
            if errno == ELOOP { throw ConfinedDirectory.refusal(source, target: nil) }
            throw ioError("cannot open \(source)")
        }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SSLMError(.ioFailure, "\(source) is not a regular file")
        }
        let temporary = "." + name + ".tmp-" + randomTag()
        removeTemporaryLeftovers(of: name, in: directory)
        let permissions = mode.map { $0 & 0o777 } ?? (info.st_mode & 0o777)
        let output = try directory.openFile(temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: permissions)
        var installed = false
        defer { if !installed { unlinkat(directory.descriptor, temporary, 0) } }
        do {
            defer { close(output) }
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot read \(source)")
                }
                if count == 0 { break }
                var written = 0
                while written < count {
                    let n = buffer.withUnsafeBytes {
                        write(output, $0.baseAddress.map { $0 + written }, count - written)
                    }
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ioError("cannot write \(directory.entryPath(temporary))")
                    }
                    written += n
                }
            }
            // The umask may have removed bits: set the mode exactly.
            guard fchmod(output, permissions) == 0 else {
                throw ioError("cannot chmod \(directory.entryPath(temporary))")
            }
            var times = [modificationTime(info), modificationTime(info)]
            guard futimens(output, &times) == 0 else {
                throw ioError("cannot set the time of \(directory.entryPath(temporary))")
            }
            guard fsync(output) == 0 else { throw ioError("cannot fsync \(directory.entryPath(temporary))") }
        }
        WriteCheckpoint.reach(.beforeRename, destination)
        guard renameat(directory.descriptor, temporary, directory.descriptor, name) == 0 else {
            throw ioError("cannot rename \(directory.entryPath(temporary)) to \(destination)")
        }
        installed = true
        WriteCheckpoint.reach(.afterRename, destination)
        try directory.sync()
    }

    private static func install(
        _ stagingName: String, at destination: String, base: String, in parent: ConfinedDirectory
    ) throws {
        let kind = parent.kind(of: base)
        WriteCheckpoint.reach(.beforeRename, destination)
        if kind == .missing {
            guard renameat(parent.descriptor, stagingName, parent.descriptor, base) == 0 else {
                throw ioError("cannot rename \(parent.entryPath(stagingName)) to \(destination)")
            }
            WriteCheckpoint.reach(.afterRename, destination)
            try parent.sync()
            return
        }
        if kind == .directory, DirectoryExchange.exchange(parent.descriptor, stagingName, base) {
            // `staging` now holds the old set.
            WriteCheckpoint.reach(.afterRename, destination)
            try parent.sync()
            try parent.removeTree(stagingName)
            return
        }
        let asideName = "." + base + ".old-" + randomTag()
        guard renameat(parent.descriptor, base, parent.descriptor, asideName) == 0 else {
            throw ioError("cannot move \(destination) aside")
        }
        guard renameat(parent.descriptor, stagingName, parent.descriptor, base) == 0 else {
            let failure = ioError("cannot rename \(parent.entryPath(stagingName)) to \(destination)")
            _ = renameat(parent.descriptor, asideName, parent.descriptor, base)
            throw failure
        }
        WriteCheckpoint.reach(.afterRename, destination)
        try parent.sync()
        try parent.removeTree(asideName)
    }

    private static func removeLeftovers(of base: String, in parent: ConfinedDirectory) throws {
        for name in parent.names() where name.hasPrefix("." + base + ".new-") || name.hasPrefix("." + base + ".old-") {
            try parent.removeTree(name)
        }
    }

    /// Removes the temporary files of interrupted copies of `base` (`.<base>.tmp-<hex>`); best effort.
    private static func removeTemporaryLeftovers(of base: String, in directory: ConfinedDirectory) {
        let prefix = "." + base + ".tmp-"
        for name in directory.names() where name.hasPrefix(prefix) {
            let tag = name.dropFirst(prefix.count)
            guard (1...8).contains(tag.count), tag.allSatisfy(\.isHexDigit) else { continue }
            unlinkat(directory.descriptor, name, 0)
        }
    }

    /// Creates `name` (0750, exactly) in `parent` and opens it; an existing directory is fine.
    private static func makeDirectory(_ name: String, in parent: ConfinedDirectory) throws -> ConfinedDirectory {
        try parent.child(name, createMode: directoryMode)
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    private static func modificationTime(_ info: stat) -> timespec {
        #if canImport(Darwin)
            info.st_mtimespec
        #else
            info.st_mtim
        #endif
    }

    static func split(_ path: String) -> (parent: String, base: String) {
        var trimmed = path
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", trimmed) }
        let parent = String(trimmed[..<slash])
        return (parent.isEmpty ? "/" : parent, String(trimmed[trimmed.index(after: slash)...]))
    }

    static func randomTag() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() & 0xFFFF_FFFF, radix: 16)
    }

    static func ioError(_ what: String) -> SSLMError {
        SSLMError(.ioFailure, "\(what): \(String(cString: strerror(errno)))")
    }
}

/// Atomic exchange of two directory entries (Linux `renameat2(…, RENAME_EXCHANGE)`, found at run time
/// so that no C shim is needed and other systems fall back).
enum DirectoryExchange {
    private typealias RenameAt2 =
        @convention(c) (
            Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32
        ) -> Int32

    private static let renameExchange: UInt32 = 1 << 1

    /// True when the two entries of the directory `directory` (a descriptor) were exchanged; false when the
    /// system cannot (then nothing changed).
    static func exchange(_ directory: Int32, _ first: String, _ second: String) -> Bool {
        #if os(Linux)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
            let function = unsafeBitCast(symbol, to: RenameAt2.self)
            return function(directory, first, directory, second, renameExchange) == 0
        #else
            return false
        #endif
    }

    /// Whether this system can exchange directories atomically.
    static var isAvailable: Bool {
        #if os(Linux)
            dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") != nil
        #else
            false
        #endif
    }
}
