import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading input files with a size limit: the one way sslm reads a whole file.
///
/// A file is opened (non-blocking, so a FIFO cannot hang the run; with `O_NOFOLLOW` when asked), checked to
/// be a regular file whose `st_size` is within the limit, and at most `limit + 1` bytes are read — so a
/// 4 GB `cert.pem` costs one `fstat`, not 4 GB of memory, and a file that grows while it is read is still
/// refused. Errors are `SSLMError`s naming the file (`.fileTooLarge` says the size and the limit). Not for
/// files without a natural bound: stream those (`lines`).
public enum BoundedFile {
    /// How much of a kind of file sslm accepts, and the words used in the error.
    public struct Limit: Sendable, Hashable {
        public var bytes: Int
        /// What the file is, for the message: "a PEM file".
        public var kind: String

        public init(bytes: Int, kind: String) {
            self.bytes = bytes
            self.kind = kind
        }

        /// PEM files (keys, CSRs, certificates, chains, bundles) and the other files of a `db/` directory:
        /// a chain of a few certificates is a few KiB.
        public static let pem = Limit(bytes: 1 << 20, kind: "a PEM file")
        /// `ssl-mgr.conf`, `ca-info.conf`, service files.
        public static let config = Limit(bytes: 1 << 20, kind: "a configuration file")
        /// Small files in `.sslm/` (lineage, caches such as `renewal-info.json`, `tlsa-published.json`,
        /// ACME account files) and TLSA / challenge files.
        public static let state = Limit(bytes: 16 << 20, kind: "a state file")
        /// A saved plan (`sslm plan -o`).
        public static let plan = Limit(bytes: 256 << 20, kind: "a saved plan")
    }

    /// What a file that is not a regular file is, for messages: `is a FIFO, a named pipe`, `is a character
    /// device`, …
    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "is a FIFO, a named pipe"
        case S_IFCHR: "is a character device"
        case S_IFBLK: "is a block device"
        case S_IFSOCK: "is a socket"
        case S_IFLNK: "is a symbolic link"
        default: "is not a file"
        }
    }

    /// The bytes of `path`, at most `limit.bytes` of them. With `followLinks: false` a final symlink is an
    /// error (`O_NOFOLLOW`).
    public static func read(_ path: String, limit: Limit, followLinks: Bool = true) throws -> [UInt8] {
        var flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK
        if !followLinks { flags |= O_NOFOLLOW }
        let fd = open(path, flags)
        guard fd >= 0 else { throw openError(path, errno: errno, followLinks: followLinks) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure(.fileUnreadable, "\(path): cannot read", errno) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw SSLMError(.fileUnreadable, "\(path): cannot read (is a directory)")
        default:
            throw SSLMError(
                .fileUnreadable, "\(path): cannot read (\(Self.kindName(info.st_mode)); not a regular file)")
        }
        if Int64(info.st_size) > Int64(limit.bytes) { throw tooLarge(path, size: Int64(info.st_size), limit: limit) }
        // Sized by st_size (one byte more, to see a file that grew since fstat), grown only if it did: a
        // buffer of the limit's size would be zero-filled for every small file.
        var bytes = [UInt8](repeating: 0, count: min(Int(info.st_size), limit.bytes) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count <= limit.bytes else { break }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit.bytes + 1 - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return posixRead(fd, base + count, raw.count - count)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(.fileUnreadable, "\(path): cannot read", errno)
            }
            if n == 0 { break }
            count += n
        }
        if count > limit.bytes { throw tooLarge(path, size: Int64(count), limit: limit, atLeast: true) }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// Like `read`, as a result whose failure is the one-line message.
    public static func readResult(_ path: String, limit: Limit, followLinks: Bool = true) -> Result<[UInt8], SSLMError>
    {
        Result { try read(path, limit: limit, followLinks: followLinks) }.mapError { error in
            error as? SSLMError ?? SSLMError(.fileUnreadable, "\(path): \(error)")
        }
    }

    /// Calls `body` with every line of `path` (without its newline), streaming it in 1 MiB chunks: memory
    /// stays bounded whatever the file's size. A line longer than `maximumLineBytes` is passed cut to that
    /// length with `truncated` true. Returns false when the file does not exist; throws when it is a symlink
    /// (`followLinks: false`) or cannot be read.
    @discardableResult
    public static func lines(
        _ path: String, maximumLineBytes: Int = 1 << 20, followLinks: Bool = false,
        _ body: (_ line: ArraySlice<UInt8>, _ truncated: Bool) throws -> Void
    ) throws -> Bool {
        var flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK
        if !followLinks { flags |= O_NOFOLLOW }
        let fd = open(path, flags)
        guard fd >= 0 else {
            if errno == ENOENT { return false }
            throw openError(path, errno: errno, followLinks: followLinks)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SSLMError(.fileUnreadable, "\(path): cannot read (not a regular file)")
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var pending: [UInt8] = []
        var overlong = false
        while true {
            let n = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(.fileUnreadable, "\(path): cannot read", errno)
            }
            if n == 0 { break }
            var start = 0
            while let newline = chunk[start..<n].firstIndex(of: UInt8(ascii: "\n")) {
                if pending.isEmpty && !overlong {
                    try body(chunk[start..<newline], false)
                } else {
                    appendBounded(&pending, chunk[start..<newline], maximum: maximumLineBytes, overlong: &overlong)
                    try body(pending[...], overlong)
                    pending.removeAll(keepingCapacity: true)
                    overlong = false
                }
                start = newline + 1
            }
            appendBounded(&pending, chunk[start..<n], maximum: maximumLineBytes, overlong: &overlong)
        }
        if !pending.isEmpty || overlong { try body(pending[...], overlong) }
        return true
    }

    /// "4.0 GB", "1 MiB", "512 bytes": sizes in messages.
    public static func describe(bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) bytes" }
        let binary: [(Int64, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (unit, name) in binary where bytes >= unit && bytes % unit == 0 { return "\(bytes / unit) \(name)" }
        let decimal: [(Double, String)] = [(1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        for (unit, name) in decimal where Double(bytes) >= unit {
            return String(format: "%.1f ", Double(bytes) / unit) + name
        }
        return "\(bytes) bytes"
    }

    /// The target of the symlink at `path`, or nil.
    public static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { pointer -> Int in
            guard let base = pointer.baseAddress else { return -1 }
            return readlink(path, base, pointer.count - 1)
        }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Internals

    private static func appendBounded(
        _ pending: inout [UInt8], _ bytes: ArraySlice<UInt8>, maximum: Int, overlong: inout Bool
    ) {
        let room = maximum - pending.count
        if bytes.count > room {
            overlong = true
            if room > 0 { pending += bytes.prefix(room) }
        } else {
            pending += bytes
        }
    }

    private static func tooLarge(_ path: String, size: Int64, limit: Limit, atLeast: Bool = false) -> SSLMError {
        let sizeText = atLeast ? "more than \(describe(bytes: Int64(limit.bytes)))" : describe(bytes: size)
        return SSLMError(
            .fileTooLarge,
            "\(path) is \(sizeText), more than the \(describe(bytes: Int64(limit.bytes))) \(limit.kind) "
                + "may have; replace or remove it")
    }

    private static func openError(_ path: String, errno code: Int32, followLinks: Bool) -> SSLMError {
        if !followLinks, code == ELOOP, let target = linkTarget(path) {
            return SSLMError(
                .symbolicLink, "refusing to read \(path): it is a symbolic link (to \(target)); remove it")
        }
        let why: String
        switch code {
        case ENOENT: why = "no such file"
        case EACCES, EPERM: why = "permission denied"
        default: why = String(cString: strerror(code))
        }
        return SSLMError(.fileUnreadable, "\(path): cannot read (\(why))")
    }

    private static func failure(_ code: SSLMError.Code, _ what: String, _ number: Int32) -> SSLMError {
        SSLMError(code, "\(what): \(String(cString: strerror(number)))")
    }
}

func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.read(fd, buffer, count)
    #elseif canImport(Musl)
        Musl.read(fd, buffer, count)
    #else
        Darwin.read(fd, buffer, count)
    #endif
}
