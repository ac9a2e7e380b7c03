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

    /// Creates `path` (0750, exactly: the umask is overridden) and its missing parents (0750 too). `root`
    /// (the topdir, or a configured directory) may be a symlink; no directory below it may be
    /// (`ConfinedDirectory`): a symlink is an error naming it.
    static func makeDirectories(_ path: String, root: String) throws {
        _ = try ConfinedDirectory.open(path, below: root, createMode: directoryMode)
    }

    /// Creates one directory with mode 0750 in its parent (below `root`, without following symlinks).
    /// Throws when it already exists and `allowExisting` is false (`EEXIST` is reported).
    static func makeDirectory(_ path: String, allowExisting: Bool = true, root: String) throws {
        let (parentPath, name) = split(path)
        let parent = try ConfinedDirectory.open(parentPath, below: root)
        if mkdirat(parent.descriptor, name, directoryMode) != 0 {
            if errno == EEXIST && allowExisting {
                _ = try parent.child(name)
                return
            }
            throw posixError("cannot create directory \(path)")
        }
        let created = try parent.child(name)
        guard fchmod(created.descriptor, directoryMode) == 0 else { throw posixError("cannot chmod \(path)") }
    }

    static func split(_ path: String) -> (parent: String, name: String) {
        let parent = (path as NSString).deletingLastPathComponent
        return (parent.isEmpty ? "." : parent, (path as NSString).lastPathComponent)
    }

    /// The target text of a symlink, nil when `path` is not a symlink.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes a symlink (absent is fine) and fsyncs its directory (opened below `root` without following
    /// symlinks).
    static func removeLink(_ path: String, root: String) throws {
        let (parentPath, name) = split(path)
        let parent = try ConfinedDirectory.open(parentPath, below: root)
        guard parent.kind(of: name) == .symlink || parent.kind(of: name) == .missing else {
            throw SSLMError(.ioFailure, "\(path) is not a link: move it away")
        }
        if unlinkat(parent.descriptor, name, 0) != 0 && errno != ENOENT {
            throw posixError("cannot remove link \(path)")
        }
        try parent.sync()
    }

    /// Renames the link `source` over `destination` (same directory, opened below `root` without following
    /// symlinks) in one step and fsyncs the directory: `destination` now points where `source` did, and
    /// `source` is gone.
    static func renameLink(_ source: String, over destination: String, root: String) throws {
        let (parentPath, sourceName) = split(source)
        let destinationName = split(destination).name
        guard split(destination).parent == parentPath else {
            throw SSLMError(.invalidArgument, "\(source) and \(destination) are not in the same directory")
        }
        let parent = try ConfinedDirectory.open(parentPath, below: root)
        guard parent.kind(of: sourceName) == .symlink else { throw SSLMError(.ioFailure, "\(source) is not a link") }
        WriteCheckpoint.reach(.beforeRename, destination)
        guard renameat(parent.descriptor, sourceName, parent.descriptor, destinationName) == 0 else {
            throw posixError("cannot rename \(source) to \(destination)")
        }
        WriteCheckpoint.reach(.afterRename, destination)
        try parent.sync()
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
