import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin POSIX reads for the observer (`lstat`, `readlink`, `opendir`, `read`): the observer touches tens of
/// thousands of paths per run, and these avoid `FileManager`'s per-call overhead. Read-only.
enum PosixFiles {
    /// What a path is, without following a final symlink.
    enum Kind: Equatable {
        case missing
        case regular
        case directory
        case symlink
        case other
    }

    /// One directory entry: its name and, when the file system reports it, its type.
    struct Entry {
        var name: String
        /// nil when `d_type` is unknown (then call `kind(of:)`).
        var kind: Kind?
    }

    /// The kind of `path` (`lstat`; a symlink is `.symlink`).
    static func linkKind(_ path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        return kind(mode: info.st_mode)
    }

    /// The kind of `path`, following symlinks (`stat`; a dangling symlink is `.missing`).
    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        return kind(mode: info.st_mode)
    }

    static func isDirectory(_ path: String) -> Bool { kind(path) == .directory }

    private static func kind(mode: mode_t) -> Kind {
        switch mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        default: .other
        }
    }

    /// The target of a symlink, nil when `path` is not one.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { pointer -> Int in
            guard let base = pointer.baseAddress else { return -1 }
            return readlink(path, base, pointer.count - 1)
        }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A descriptor of the directory `path` (following symlinks, as `stat`) for `*at` calls only
    /// (`O_PATH`: no read permission needed); nil when it is not a directory. The caller closes it.
    static func openDirectoryPath(_ path: String) -> Int32? {
        #if os(Linux)
            // O_PATH (010000000 on x86-64 and arm64) is hidden behind _GNU_SOURCE in the Glibc module.
            let descriptor = open(path, 0o10_000_000 | O_DIRECTORY | O_CLOEXEC)
        #else
            let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #endif
        return descriptor >= 0 ? descriptor : nil
    }

    /// `fstat` of an open descriptor (an `O_PATH` one too).
    static func status(of descriptor: Int32) -> stat? {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? info : nil
    }

    /// `stat` (`followLinks`) or `lstat` of the entry `name` of the directory open as `directory`.
    static func status(at directory: Int32, _ name: String, followLinks: Bool) -> stat? {
        var info = stat()
        let flags = followLinks ? Int32(0) : Int32(AT_SYMLINK_NOFOLLOW)
        return fstatat(directory, name, &info, flags) == 0 ? info : nil
    }

    /// `linkKind` of the entry `name` of the directory open as `directory`.
    static func linkKind(at directory: Int32, _ name: String) -> Kind {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return .missing }
        return kind(mode: info.st_mode)
    }

    /// `readLink` of the entry `name` of the directory open as `directory`.
    static func readLink(at directory: Int32, _ name: String) -> String? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(PATH_MAX) + 1) { buffer -> String? in
            guard let base = buffer.baseAddress else { return nil }
            let count = base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                readlinkat(directory, name, $0, buffer.count - 1)
            }
            guard count >= 0 else { return nil }
            return String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
        }
    }

    /// The canonical absolute path (`realpath`), nil when it does not resolve.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The entries of a directory (without `.` and `..`), unsorted; nil when it cannot be opened.
    static func entries(_ path: String) -> [Entry]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        return entries(of: directory)
    }

    /// A directory held open while its entries are looked at: `status(_:followLinks:)` is an `fstatat`
    /// relative to it, without walking the directory's path again for each file.
    struct OpenDirectory {
        let descriptor: Int32
        /// The entries (without `.` and `..`), unsorted.
        let entries: [Entry]

        /// `stat` (`followLinks`) or `lstat` of the entry `name`; nil when it does not exist.
        func status(_ name: String, followLinks: Bool) -> stat? {
            var info = stat()
            let flags = followLinks ? Int32(0) : Int32(AT_SYMLINK_NOFOLLOW)
            guard fstatat(descriptor, name, &info, flags) == 0 else { return nil }
            return info
        }
    }

    /// `body` with the directory `path` open (see `OpenDirectory`); nil when it cannot be opened (as
    /// `entries(_:)`).
    static func withDirectory<T>(_ path: String, _ body: (OpenDirectory) -> T) -> T? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        let entries = entries(of: directory)
        return body(OpenDirectory(descriptor: dirfd(directory), entries: entries))
    }

    /// The kind of a file of this `st_mode`.
    static func kind(of info: stat) -> Kind { kind(mode: info.st_mode) }

    private static func entries(of directory: OpaquePointer) -> [Entry] {
        var result: [Entry] = []
        while let pointer = readdir(directory) {
            let name = withUnsafePointer(to: &pointer.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let kind: Kind?
            switch Int32(pointer.pointee.d_type) {
            case Int32(DT_REG): kind = .regular
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_LNK): kind = .symlink
            case Int32(DT_UNKNOWN): kind = nil
            default: kind = .other
            }
            result.append(Entry(name: name, kind: kind))
        }
        return result
    }

    /// Why a read failed, as one line.
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// The content of a regular file, at most `limit` bytes (`BoundedFile`): a larger file is a failure
    /// naming its size and the limit, read without allocating its size.
    static func read(_ path: String, limit: BoundedFile.Limit = .pem, followLinks: Bool = true)
        -> Result<[UInt8], ReadError>
    {
        BoundedFile.readResult(path, limit: limit, followLinks: followLinks).mapError {
            ReadError(description: $0.message)
        }
    }
}
