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
    /// Parents are created (0750) as needed.
    public static func replaceDirectory(
        at destination: String, copying files: [String], from source: String,
        mode: ((String) -> mode_t)? = nil
    ) throws {
        let (parent, base) = split(destination)
        try makeDirectories(parent)
        try removeLeftovers(of: base, in: parent)
        let staging = parent + "/." + base + ".new-" + randomTag()
        try makeDirectory(staging)
        do {
            for name in files {
                guard SafeName.isSafe(name) else {
                    throw SSLMError(.invalidArgument, "\"\(SafeName.printable(name))\" is not a plain file name")
                }
                try copyFile(from: source + "/" + name, to: staging + "/" + name, mode: mode?(name))
            }
            try syncDirectory(staging)
            try install(staging, at: destination, parent: parent, base: base)
        } catch {
            try? removeTree(staging)
            throw error
        }
    }

    /// Removes `destination` (a production `next/` that no longer exists in `certs/`) as a whole; absent is
    /// fine. Where the exchange is available an empty directory is exchanged with it first, so a crash before
    /// the end leaves an empty `destination` (visible, and removed by the next sync) rather than only a
    /// hidden copy of the old set. Leftover hidden siblings of an interrupted run are removed first.
    public static func removeDirectory(at destination: String) throws {
        let (parent, base) = split(destination)
        var info = stat()
        guard lstat(destination, &info) == 0 else { return }
        try removeLeftovers(of: base, in: parent)
        let aside = parent + "/." + base + ".old-" + randomTag()
        if (info.st_mode & S_IFMT) == S_IFDIR {
            try makeDirectory(aside)
            WriteCheckpoint.reach(.beforeRename, destination)
            if DirectoryExchange.exchange(aside, destination) {
                // `destination` is empty now; `aside` holds the old set.
                WriteCheckpoint.reach(.afterRename, destination)
                try syncDirectory(parent)
                try removeTree(aside)
                try removeTree(destination)
                try syncDirectory(parent)
                return
            }
            try removeTree(aside)
        } else {
            WriteCheckpoint.reach(.beforeRename, destination)
        }
        guard rename(destination, aside) == 0 else { throw ioError("cannot move \(destination) aside") }
        WriteCheckpoint.reach(.afterRename, destination)
        try syncDirectory(parent)
        try removeTree(aside)
    }

    /// Copies one file atomically (temporary file, fsync, rename, directory fsync), keeping its
    /// modification time and its mode (permission bits) unless `mode` is given. Used for production files
    /// and TLSA file copies.
    public static func copyFile(from source: String, to destination: String, mode: mode_t? = nil) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ioError("cannot open \(source)") }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SSLMError(.ioFailure, "\(source) is not a regular file")
        }
        let (parent, base) = split(destination)
        let temporary = parent + "/." + base + ".tmp-" + randomTag()
        removeTemporaryLeftovers(of: base, in: parent)
        let permissions = mode.map { $0 & 0o777 } ?? (info.st_mode & 0o777)
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard output >= 0 else { throw ioError("cannot create \(temporary)") }
        var installed = false
        defer { if !installed { unlink(temporary) } }
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
                        throw ioError("cannot write \(temporary)")
                    }
                    written += n
                }
            }
            // The umask may have removed bits: set the mode exactly.
            guard fchmod(output, permissions) == 0 else { throw ioError("cannot chmod \(temporary)") }
            var times = [modificationTime(info), modificationTime(info)]
            guard futimens(output, &times) == 0 else { throw ioError("cannot set the time of \(temporary)") }
            guard fsync(output) == 0 else { throw ioError("cannot fsync \(temporary)") }
        }
        WriteCheckpoint.reach(.beforeRename, destination)
        guard rename(temporary, destination) == 0 else {
            throw ioError("cannot rename \(temporary) to \(destination)")
        }
        installed = true
        WriteCheckpoint.reach(.afterRename, destination)
        try syncDirectory(parent)
    }

    /// Creates `path` and missing parents with mode 0750 (existing directories are left as they are).
    public static func makeDirectories(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw SSLMError(.ioFailure, "\(path) is not a directory") }
            return
        }
        let (parent, _) = split(path)
        if parent != path, !parent.isEmpty { try makeDirectories(parent) }
        try makeDirectory(path)
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

    private static func install(_ staging: String, at destination: String, parent: String, base: String) throws {
        var info = stat()
        let exists = lstat(destination, &info) == 0
        WriteCheckpoint.reach(.beforeRename, destination)
        if !exists {
            guard rename(staging, destination) == 0 else { throw ioError("cannot rename \(staging) to \(destination)") }
            WriteCheckpoint.reach(.afterRename, destination)
            try syncDirectory(parent)
            return
        }
        if (info.st_mode & S_IFMT) == S_IFDIR, DirectoryExchange.exchange(staging, destination) {
            // `staging` now holds the old set.
            WriteCheckpoint.reach(.afterRename, destination)
            try syncDirectory(parent)
            try removeTree(staging)
            return
        }
        let aside = parent + "/." + base + ".old-" + randomTag()
        guard rename(destination, aside) == 0 else { throw ioError("cannot move \(destination) aside") }
        guard rename(staging, destination) == 0 else {
            let failure = ioError("cannot rename \(staging) to \(destination)")
            _ = rename(aside, destination)
            throw failure
        }
        WriteCheckpoint.reach(.afterRename, destination)
        try syncDirectory(parent)
        try removeTree(aside)
    }

    private static func removeLeftovers(of base: String, in parent: String) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix("." + base + ".new-") || name.hasPrefix("." + base + ".old-") {
            try removeTree(parent + "/" + name)
        }
    }

    /// Removes the temporary files of interrupted copies of `base` (`.<base>.tmp-<hex>`); best effort.
    private static func removeTemporaryLeftovers(of base: String, in parent: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        let prefix = "." + base + ".tmp-"
        for name in names where name.hasPrefix(prefix) {
            let tag = name.dropFirst(prefix.count)
            guard (1...8).contains(tag.count), tag.allSatisfy(\.isHexDigit) else { continue }
            unlink(parent + "/" + name)
        }
    }

    private static func makeDirectory(_ path: String) throws {
        if mkdir(path, directoryMode) != 0 {
            guard errno == EEXIST else { throw ioError("cannot create directory \(path)") }
            return
        }
        guard chmod(path, directoryMode) == 0 else { throw ioError("cannot chmod \(path)") }
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

    /// True when both paths were exchanged; false when the system cannot (then nothing changed).
    static func exchange(_ first: String, _ second: String) -> Bool {
        #if os(Linux)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
            let function = unsafeBitCast(symbol, to: RenameAt2.self)
            return function(AT_FDCWD, first, AT_FDCWD, second, renameExchange) == 0
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
