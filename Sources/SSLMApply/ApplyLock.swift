import Foundation
import SSLMCore
import SSLMPKI

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one-instance lock of a topdir: an exclusive `flock` on `<topdir>/.sslm/lock`, held from before the
/// first action until `release()`.
///
/// `flock` locks belong to the open file, so the kernel drops the lock when the process dies — a crashed
/// run never leaves a stale lock. Not reentrant: a second `acquire` in the same process waits like any
/// other instance. Not for network file systems without `flock` support.
public final class ApplyLock: @unchecked Sendable {
    /// The lock file.
    public let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Takes the lock, waiting up to `timeout` (polling) while another instance holds it. Creates
    /// `<topdir>/.sslm/` (0700) when needed. Throws `SSLMError(.lockHeld)` on timeout, naming the file.
    public static func acquire(topdir: String, timeout: Duration) async throws -> ApplyLock {
        let directory = try StateDirectory.open(topdir: topdir)
        let path = directory.entryPath("lock")
        let fd = try directory.openFile("lock", flags: O_RDWR | O_CREAT, mode: 0o600)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return ApplyLock(path: path, descriptor: fd) }
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                close(fd)
                throw SSLMError(.ioFailure, "cannot lock \(path): \(String(cString: strerror(failure)))")
            }
            if clock.now >= deadline {
                close(fd)
                throw SSLMError(
                    .lockHeld,
                    "another sslm is running on this topdir (\(path) is locked); waited \(timeout): "
                        + "let it finish and try again")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Whether this lock is the one of `topdir` (`<topdir>/.sslm/lock`) and still held.
    public func covers(topdir: String) -> Bool {
        descriptor >= 0 && path == StateDirectory.path(topdir: topdir) + "/lock"
    }

    /// Releases the lock (also released when the process exits).
    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// `<topdir>/.sslm/`: sslm's own state (lock, lineage, journal, caches). Mode 0700. The topdir may be a
/// symlink (the admin's choice); `.sslm` and everything sslm writes in it may not (`ConfinedDirectory`).
enum StateDirectory {
    static func path(topdir: String) -> String { topdir + "/.sslm" }

    /// Opens the directory without following a symlink, creating it (0700) and the topdir (0750) when
    /// absent.
    static func open(topdir: String) throws -> ConfinedDirectory {
        // The state root itself may be new (`--test` works in <topdir>/test).
        let root = try ConfinedDirectory.open(topdir, below: topdir, createMode: FileOps.directoryMode)
        return try root.child(".sslm", createMode: 0o700)
    }

    /// Creates the directory (0700), and the topdir (0750) when absent; returns its path.
    static func ensure(topdir: String) throws -> String {
        _ = try open(topdir: topdir)
        return path(topdir: topdir)
    }

    /// The lineage of the topdir (`.sslm/lineage`, a random UUID), created when absent.
    static func ensureLineage(topdir: String) throws -> String {
        let file = path(topdir: topdir) + "/lineage"
        if let existing = readLineage(topdir: topdir) { return existing }
        let lineage = UUID().uuidString.lowercased()
        try AtomicFile.write(text: lineage + "\n", to: file, mode: 0o644, root: topdir)
        return lineage
    }

    static func readLineage(topdir: String) -> String? {
        guard
            let data = try? BoundedFile.read(
                path(topdir: topdir) + "/lineage", limit: .state, followLinks: false)
        else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
