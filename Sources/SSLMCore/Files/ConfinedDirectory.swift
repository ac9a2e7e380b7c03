import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open directory reached from a configured root without following symlinks below it: the root
/// (`topdir`, `prod_cert_dir`, a log directory — which an admin may have made a link) is opened normally,
/// every component below it with `openat(…, O_DIRECTORY | O_NOFOLLOW)`, created with `mkdirat` when asked.
///
/// Writers create, rename and remove entries relative to `descriptor` (`openat`, `renameat`, `unlinkat`),
/// so a symlink planted anywhere below the root — or swapped in while sslm runs — can never redirect a
/// write elsewhere: it is an `SSLMError(.symbolicLink)` naming the path and its target. Owns the
/// descriptor (closed on deinit). Not for paths outside the root (refused).
public final class ConfinedDirectory: @unchecked Sendable {
    /// The directory's path as given (for messages).
    public let path: String
    /// The open directory (`O_DIRECTORY`).
    public let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// What a name in the directory is, without following a symlink.
    public enum Kind: Sendable, Equatable {
        case missing, file, directory, symlink, other
    }

    /// Opens `path`, which is `root` or below it. Components below `root` must be directories, not symlinks;
    /// with `createMode` missing ones (and a missing root, with its parents) are created with that mode,
    /// exactly (the umask is overridden).
    public static func open(_ path: String, below root: String, createMode: mode_t? = nil) throws
        -> ConfinedDirectory
    {
        let root = trimmed(root)
        let path = trimmed(path)
        let relative: Substring
        if path == root {
            relative = ""
        } else if path.hasPrefix(root == "/" ? "/" : root + "/") {
            relative = path.dropFirst(root == "/" ? 1 : root.count + 1)
        } else {
            throw SSLMError(.invalidArgument, "\(path) is not inside \(root)")
        }
        var fd = openDirectoryPath(root)
        if fd < 0, errno == ENOENT, let mode = createMode {
            try makeDirectories(root, mode: mode)
            fd = openDirectoryPath(root)
        }
        guard fd >= 0 else { throw ioError("cannot open directory \(root)") }
        var directory = ConfinedDirectory(path: root, descriptor: fd)
        for component in relative.split(separator: "/") where component != "." {
            guard component != ".." else { throw SSLMError(.invalidArgument, "\(path): \"..\" in a managed path") }
            directory = try directory.child(String(component), createMode: createMode)
        }
        return directory
    }

    /// The subdirectory `name` (not a symlink), created with `createMode` when missing and a mode is given.
    public func child(_ name: String, createMode: mode_t? = nil) throws -> ConfinedDirectory {
        let childPath = entryPath(name)
        var fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0, errno == ENOENT, let mode = createMode {
            if mkdirat(descriptor, name, mode) != 0, errno != EEXIST {
                throw Self.ioError("cannot create directory \(childPath)")
            }
            fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 { _ = fchmod(fd, mode) }
        }
        guard fd >= 0 else {
            let failure = errno
            if kind(of: name) == .symlink { throw Self.refusal(childPath, target: linkTarget(name)) }
            if failure == ENOTDIR { throw SSLMError(.ioFailure, "\(childPath) exists and is not a directory") }
            errno = failure
            throw Self.ioError("cannot open directory \(childPath)")
        }
        return ConfinedDirectory(path: childPath, descriptor: fd)
    }

    /// The path of `name` in this directory, for messages.
    public func entryPath(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    /// What `name` is (`fstatat` with `AT_SYMLINK_NOFOLLOW`).
    public func kind(of name: String) -> Kind {
        var info = stat()
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// The target of the symlink `name`, nil when it is not one.
    public func linkTarget(_ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer {
            guard let base = $0.baseAddress else { return -1 }
            return readlinkat(descriptor, name, base, $0.count - 1)
        }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Throws the refusal when `name` is a symlink (sslm expects a regular file or directory there).
    public func refuseSymlink(_ name: String) throws {
        if kind(of: name) == .symlink { throw Self.refusal(entryPath(name), target: linkTarget(name)) }
    }

    /// Opens the file `name` with `flags` plus `O_NOFOLLOW | O_CLOEXEC`; a symlink is the refusal.
    public func openFile(_ name: String, flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        let fd = openat(descriptor, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let failure = errno
            if failure == ELOOP || kind(of: name) == .symlink {
                throw Self.refusal(entryPath(name), target: linkTarget(name))
            }
            errno = failure
            throw Self.ioError("cannot open \(entryPath(name))")
        }
        return fd
    }

    /// fsyncs the directory so that renames in it are durable.
    public func sync() throws {
        guard fsync(descriptor) == 0 else { throw Self.ioError("cannot fsync directory \(path)") }
    }

    /// The names in the directory (without `.` and `..`); empty when it cannot be listed.
    public func names() -> [String] {
        let copy = dup(descriptor)
        guard copy >= 0 else { return [] }
        guard let stream = fdopendir(copy) else {
            close(copy)
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var result: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { result.append(name) }
        }
        return result
    }

    /// Removes `name` and, when it is a directory, everything in it; symlinks are removed, never followed.
    /// Absent is fine.
    public func removeTree(_ name: String) throws {
        switch kind(of: name) {
        case .missing: return
        case .directory:
            let inner = try child(name)
            for entry in inner.names() { try inner.removeTree(entry) }
            guard unlinkat(descriptor, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw Self.ioError("cannot remove \(entryPath(name))")
            }
        default:
            guard unlinkat(descriptor, name, 0) == 0 || errno == ENOENT else {
                throw Self.ioError("cannot remove \(entryPath(name))")
            }
        }
    }

    /// The error for a symlink where sslm manages a file or directory.
    public static func refusal(_ path: String, target: String?) -> SSLMError {
        SSLMError(
            .symbolicLink,
            "refusing to write \(path): it is a symbolic link\(target.map { " (to \($0))" } ?? ""); remove it")
    }

    static func ioError(_ what: String) -> SSLMError {
        SSLMError(.ioFailure, "\(what): \(String(cString: strerror(errno)))")
    }

    private static func trimmed(_ path: String) -> String {
        var text = path.isEmpty ? "." : path
        while text.count > 1, text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// `mkdir -p` of a root (following links: roots are the admin's).
    private static func makeDirectories(_ path: String, mode: mode_t) throws {
        var info = stat()
        if stat(path, &info) == 0 { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 {
            guard errno == EEXIST else { throw ioError("cannot create directory \(path)") }
            return
        }
        _ = chmod(path, mode)
    }
}

/// `open(2)` of a directory by path (outside the type, whose `open` is the confined one).
private func openDirectoryPath(_ path: String) -> Int32 {
    open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
}
