#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What identifies a file's content without reading it, as git's index does: device, inode, size, both
/// time stamps in nanoseconds and the mode. `ctime` is the guard that cannot be forged: `touch -d` sets
/// `mtime` back but moves `ctime` to now, and a file renamed over another has its own `ctime` (and a reused
/// inode number still has a new `ctime`).
public struct FileSignature: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: Int64
    var changed: Int64
    var mode: UInt32

    /// `lstat` (`followLinks: false`) or `stat` of `path`; nil when it does not exist.
    init?(_ path: String, followLinks: Bool) {
        var info = stat()
        guard (followLinks ? stat(path, &info) : lstat(path, &info)) == 0 else { return nil }
        self.init(info)
    }

    /// The signature of a file with this `stat` information.
    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        mode = UInt32(info.st_mode)
    }

    init(device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64, mode: UInt32) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
        self.mode = mode
    }

    var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }

    /// Whether the file changed so close to `time` (ns since the epoch) that a second change in the same
    /// time-stamp tick could go unseen: such a file is never cached (git's "racily clean" entries).
    func isRacy(at time: Int64) -> Bool {
        max(modified, changed) >= time - FileSignature.racyMargin
    }

    /// One second: more than any Linux file system's time-stamp granularity except FAT's.
    static let racyMargin: Int64 = 1_000_000_000

    /// Now, in nanoseconds since the epoch (the wall clock, as file time stamps are).
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
