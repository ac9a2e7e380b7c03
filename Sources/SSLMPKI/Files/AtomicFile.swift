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
/// same name. Not for appending or for files that other processes modify concurrently.
public enum AtomicFile {
    /// Mode of private key files and `bundle.pem`.
    public static let privateMode: mode_t = 0o600
    /// Mode of certificates, CSRs, TLSA files and DH parameters (subject to the umask).
    public static let publicMode: mode_t = 0o644

    /// Replaces `path` with `bytes`. Throws `SSLMError(.ioFailure)` naming the path.
    public static func write(_ bytes: some Collection<UInt8>, to path: String, mode: mode_t = publicMode) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let base = url.lastPathComponent
        var randomTag = SystemRandomNumberGenerator()
        let tmpPath = directory + "/." + base + ".tmp-" + String(randomTag.next() & 0xFFFF_FFFF, radix: 16)
        removeLeftovers(prefix: "." + base + ".tmp-", in: directory)

        let fd = open(tmpPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ioError("cannot create \(tmpPath)") }
        var ok = false
        defer {
            if !ok { unlink(tmpPath) }
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
        guard rename(tmpPath, path) == 0 else { throw ioError("cannot rename \(tmpPath) to \(path)") }
        ok = true
        WriteCheckpoint.reach(.afterRename, path)
        try syncDirectory(directory)
    }

    /// Replaces `path` with the UTF-8 bytes of `text`.
    public static func write(text: String, to path: String, mode: mode_t = publicMode) throws {
        try write(Array(text.utf8), to: path, mode: mode)
    }

    /// Points `linkPath` at `target` (a relative or absolute path), replacing any existing link atomically
    /// by renaming a temporary link over it.
    public static func symlink(target: String, at linkPath: String) throws {
        let directory = URL(fileURLWithPath: linkPath).deletingLastPathComponent().path
        var randomTag = SystemRandomNumberGenerator()
        let tmpPath = linkPath + ".tmp-" + String(randomTag.next() & 0xFFFF_FFFF, radix: 16)
        removeLeftovers(prefix: URL(fileURLWithPath: linkPath).lastPathComponent + ".tmp-", in: directory)
        guard posixSymlink(target, tmpPath) == 0 else { throw ioError("cannot create link \(tmpPath)") }
        WriteCheckpoint.reach(.beforeRename, linkPath)
        guard rename(tmpPath, linkPath) == 0 else {
            unlink(tmpPath)
            throw ioError("cannot rename link \(tmpPath) to \(linkPath)")
        }
        WriteCheckpoint.reach(.afterRename, linkPath)
        try syncDirectory(directory)
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
    static func removeLeftovers(prefix: String, in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)
        else { return }
        for name in names where name.hasPrefix(prefix) {
            let tag = name.dropFirst(prefix.count)
            guard (1...8).contains(tag.count), tag.allSatisfy(\.isHexDigit) else { continue }
            unlink((directory.isEmpty ? "." : directory) + "/" + name)
        }
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

private func posixSymlink(_ target: String, _ path: String) -> Int32 {
    #if canImport(Glibc)
        Glibc.symlink(target, path)
    #elseif canImport(Musl)
        Musl.symlink(target, path)
    #else
        Darwin.symlink(target, path)
    #endif
}
