import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash-safe file replacement: the bytes go to a temporary file in the same directory, which is
/// fsync'ed, renamed over the target and followed by an fsync of the directory.
///
/// A reader sees either the old content or the new content, never a mix, and after `write` returns the
/// new content survives a power loss. The temporary file is created with the final mode from the start
/// (`open(…, O_CREAT|O_EXCL, mode)`), so a private key is never readable by others, not even briefly.
/// The process umask still applies and can only remove bits. A temporary file left by a writer that was
/// killed (`.<name>.tmp-<random>`, or `<name>.tmp-<random>` for a link) is removed by the next write of the
/// same name. Writes never follow a symlink: the target name must not be one, and with `root` no directory
/// below the root may be one either (Docs/apply.md "Files"). Not for appending or for files that other
/// processes modify concurrently.
public enum AtomicFile {
    /// Mode of private key files and `bundle.pem`.
    public static let privateMode: mode_t = 0o600
    /// Mode of certificates, CSRs, TLSA files and DH parameters (subject to the umask).
    public static let publicMode: mode_t = 0o644

    /// Replaces `path` with `bytes`. Throws `SSLMError(.ioFailure)` naming the path.
    ///
    /// With `root` (a configured root such as the topdir), every directory between `root` and `path` is
    /// opened without following symlinks (`ConfinedDirectory`); without it the parent directory is opened as
    /// given. Either way the file itself must not be a symlink (`SSLMError(.symbolicLink)`), and the
    /// temporary file is created and renamed relative to the open directory.
    public static func write(
        _ bytes: some Collection<UInt8>, to path: String, mode: mode_t = publicMode, root: String? = nil
    ) throws {
        let (directoryPath, base) = split(path)
        let directory = try ConfinedDirectory.open(directoryPath, below: root ?? directoryPath)
        try directory.refuseSymlink(base)
        var randomTag = SystemRandomNumberGenerator()
        let tmpName = "." + base + ".tmp-" + String(randomTag.next() & 0xFFFF_FFFF, radix: 16)
        removeLeftovers(prefix: "." + base + ".tmp-", in: directory)

        let fd = try directory.openFile(tmpName, flags: O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var ok = false
        defer {
            if !ok { unlinkat(directory.descriptor, tmpName, 0) }
        }
        do {
            defer { close(fd) }
            let data = Array(bytes)
            var written = 0
            while written < data.count {
                let n = data.withUnsafeBytes { raw in
                    posixWrite(fd, raw.baseAddress.map { $0 + written }, data.count - written)
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot write \(path)")
                }
                written += n
            }
            guard fsync(fd) == 0 else { throw ioError("cannot fsync \(path)") }
        }
        WriteCheckpoint.reach(.beforeRename, path)
        guard renameat(directory.descriptor, tmpName, directory.descriptor, base) == 0 else {
            throw ioError("cannot rename \(directory.entryPath(tmpName)) to \(path)")
        }
        ok = true
        WriteCheckpoint.reach(.afterRename, path)
        try directory.sync()
    }

    /// Replaces `path` with the UTF-8 bytes of `text`.
    public static func write(text: String, to path: String, mode: mode_t = publicMode, root: String? = nil) throws {
        try write(Array(text.utf8), to: path, mode: mode, root: root)
    }

    /// Points `linkPath` at `target` (a relative or absolute path), replacing any existing link atomically
    /// by renaming a temporary link over it. With `root`, the directories below it are opened without
    /// following symlinks (see `write`).
    public static func symlink(target: String, at linkPath: String, root: String? = nil) throws {
        let (directoryPath, base) = split(linkPath)
        let directory = try ConfinedDirectory.open(directoryPath, below: root ?? directoryPath)
        var randomTag = SystemRandomNumberGenerator()
        let tmpName = base + ".tmp-" + String(randomTag.next() & 0xFFFF_FFFF, radix: 16)
        removeLeftovers(prefix: base + ".tmp-", in: directory)
        guard symlinkat(target, directory.descriptor, tmpName) == 0 else {
            throw ioError("cannot create link \(directory.entryPath(tmpName))")
        }
        WriteCheckpoint.reach(.beforeRename, linkPath)
        guard renameat(directory.descriptor, tmpName, directory.descriptor, base) == 0 else {
            let failure = ioError("cannot rename link \(directory.entryPath(tmpName)) to \(linkPath)")
            unlinkat(directory.descriptor, tmpName, 0)
            throw failure
        }
        WriteCheckpoint.reach(.afterRename, linkPath)
        try directory.sync()
    }

    /// fsyncs a directory so that renames in it are durable.
    public static func syncDirectory(_ directory: String) throws {
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open directory \(directory)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ioError("cannot fsync directory \(directory)") }
    }

    /// Removes the temporary files or links of interrupted writes: names `prefix` + 1–8 hex digits.
    /// Best effort: what cannot be listed or removed stays.
    static func removeLeftovers(prefix: String, in directory: ConfinedDirectory) {
        for name in directory.names() where name.hasPrefix(prefix) {
            let tag = name.dropFirst(prefix.count)
            guard (1...8).contains(tag.count), tag.allSatisfy(\.isHexDigit) else { continue }
            unlinkat(directory.descriptor, name, 0)
        }
    }

    /// Parent directory and last component of a path (`"."` for a bare name).
    static func split(_ path: String) -> (directory: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    static func ioError(_ what: String) -> SSLMError {
        let reason = String(cString: strerror(errno))
        return SSLMError(.ioFailure, "\(what): \(reason)")
    }
}

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
        Musl.write(fd, buffer, count)
    #else
        Darwin.write(fd, buffer, count)
    #endif
}
