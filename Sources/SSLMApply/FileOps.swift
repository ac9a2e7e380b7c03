import Foundation
import SSLMCore
import SSLMObserve

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small POSIX helpers of the handlers: directories with sslm's modes, links, existence.
enum FileOps {
    /// Mode of every directory sslm creates under `certs/` (spec §3.4).
    static let directoryMode: mode_t = 0o750

    /// What is at a path, without following a final symlink.
    enum Kind: Equatable {
        case missing, file, directory, symlink, other
    }

    static func kind(_ path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// Creates `path` (0750, exactly: the umask is overridden) and its missing parents (0750 too).
    static func makeDirectories(_ path: String) throws {
        switch kind(path) {
        case .directory: return
        case .missing: break
        case .symlink:
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return }
            throw SSLMError(.ioFailure, "\(path) is a link to something that is not a directory")
        default: throw SSLMError(.ioFailure, "\(path) exists and is not a directory")
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try makeDirectories(parent) }
        try makeDirectory(path)
    }

    /// Creates one directory with mode 0750. Throws when it already exists (`EEXIST` is reported).
    static func makeDirectory(_ path: String, allowExisting: Bool = true) throws {
        if mkdir(path, directoryMode) != 0 {
            if errno == EEXIST && allowExisting { return }
            throw posixError("cannot create directory \(path)")
        }
        guard chmod(path, directoryMode) == 0 else { throw posixError("cannot chmod \(path)") }
    }

    /// The target text of a symlink, nil when `path` is not a symlink.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes a symlink (absent is fine) and fsyncs its directory.
    static func removeLink(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw posixError("cannot remove link \(path)") }
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Renames the link `source` over `destination` (same directory) in one step and fsyncs the directory:
    /// `destination` now points where `source` did, and `source` is gone.
    static func renameLink(_ source: String, over destination: String) throws {
        guard kind(source) == .symlink else { throw SSLMError(.ioFailure, "\(source) is not a link") }
        WriteCheckpoint.reach(.beforeRename, destination)
        guard rename(source, destination) == 0 else { throw posixError("cannot rename \(source) to \(destination)") }
        WriteCheckpoint.reach(.afterRename, destination)
        try syncDirectory((destination as NSString).deletingLastPathComponent)
    }

    static func syncDirectory(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError("cannot open directory \(directory)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw posixError("cannot fsync directory \(directory)") }
    }

    static func posixError(_ what: String) -> SSLMError {
        SSLMError(.ioFailure, "\(what): \(String(cString: strerror(errno)))")
    }
}

/// The `certs/<group>/<service>` tree of one service as the handlers use it: link names, the db directory
/// a link points to (checked to be a dated directory inside `db/`).
struct ServiceTree {
    let topdir: String
    let address: ServiceAddress

    var directory: String { CertsLayout.serviceDirectory(topdir: topdir, address: address) }
    var dbDirectory: String { CertsLayout.dbDirectory(topdir: topdir, address: address) }
    func link(_ name: String) -> String { directory + "/" + name }
    func dbPath(_ name: String) -> String { dbDirectory + "/" + name }

    /// The db directory name `link` (`curr`, `next`, `prev`) points to; nil when the link is absent.
    /// Throws when it is something else than a link to an existing `db/<name>` directory.
    func target(of linkName: String) throws -> String? {
        let path = link(linkName)
        switch FileOps.kind(path) {
        case .missing: return nil
        case .symlink: break
        default:
            throw SSLMError(
                .ioFailure, "\(path) is not a symlink: move it away (sslm manages \(linkName) as a link to db/<time>)")
        }
        guard let text = FileOps.linkTarget(path) else { throw FileOps.posixError("cannot read link \(path)") }
        var name = text
        if name.hasPrefix("./") { name.removeFirst(2) }
        if name.hasPrefix(dbDirectory + "/") { name = String(name.dropFirst(dbDirectory.count + 1)) }
        if name.hasPrefix("db/") { name.removeFirst(3) }
        while name.hasSuffix("/") { name.removeLast() }
        guard SafeName.isSafe(name), FileOps.kind(dbPath(name)) == .directory else {
            throw SSLMError(.ioFailure, "\(path) points to \(text), which is not a directory in db/")
        }
        return name
    }

    /// The real path of the db directory `link` points to; throws when the link is absent or broken.
    func required(_ linkName: String) throws -> String {
        guard let name = try target(of: linkName) else {
            throw SSLMError(.ioFailure, "\(link(linkName)) does not exist")
        }
        return dbPath(name)
    }
}
