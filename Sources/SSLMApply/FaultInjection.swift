import Foundation
import SSLMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Test-only crash switches, read once from the environment of the `sslm` process (Docs/apply.md,
/// "Testing"). The process sends itself SIGKILL — no cleanup, no `defer`, no buffered output — at:
///
/// - `SSLM_FAULT_KILL_AFTER_ACTIONS=N`: right after the journal record (`ok` or `failed`) of the N-th action
///   this run performs (actions the journal shows as done earlier do not count);
/// - `SSLM_FAULT_KILL_IN_WRITE=N[:before|:after]`: inside the N-th crash-safe write of the run (an
///   `AtomicFile` write or link switch, a production file copy, a production directory swap or removal),
///   after the new content is complete and flushed and before it is renamed into place (`before`, the
///   default), or right after the rename, before the directory is flushed and the old set removed (`after`).
///   When the run ends without reaching write N it prints `sslm fault injection: <count> writes, …` on
///   stderr, then one line per write (`write <i>: <path>`), so a test can learn which writes a plan makes.
///
/// When neither variable is set nothing is installed: an action costs one comparison, a write one load.
/// Never for production use; not shown in `--help`.
enum FaultInjection {
    /// Where in a write to kill.
    struct WriteKill: Equatable {
        var index: Int
        var instant: WriteCheckpoint
    }

    static let killAfterActions: Int? = positive(ProcessInfo.processInfo.environment["SSLM_FAULT_KILL_AFTER_ACTIONS"])
    static let writeKill: WriteKill? = parseWriteKill(ProcessInfo.processInfo.environment["SSLM_FAULT_KILL_IN_WRITE"])

    /// Installs the write hook when `SSLM_FAULT_KILL_IN_WRITE` is set (once per process).
    static func activate() { _ = installed }

    /// Called after the journal record of the `count`-th action performed in this run.
    @inline(__always)
    static func actionRecorded(_ count: Int) {
        if let killAfterActions, count == killAfterActions { killSelf() }
    }

    /// Called at the end of a run: reports how many writes it made when the write kill was not reached.
    static func runEnded() {
        guard let writeKill else { return }
        let paths = counter.paths
        var text = "sslm fault injection: \(paths.count) writes, none is number \(writeKill.index)\n"
        for (offset, path) in paths.enumerated() { text += "write \(offset + 1): \(path)\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func parseWriteKill(_ text: String?) -> WriteKill? {
        guard let text else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let index = positive(parts.first) else { return nil }
        switch parts.count == 2 ? parts[1] : parts.count == 1 ? "before" : "" {
        case "before": return WriteKill(index: index, instant: .beforeRename)
        case "after": return WriteKill(index: index, instant: .afterRename)
        default: return nil
        }
    }

    // MARK: - Internals

    private static let counter = WriteCounter()

    private static let installed: Bool = {
        guard let writeKill else { return false }
        WriteCheckpoint.hook = { instant, path in
            // Writes never nest: an `afterRename` belongs to the write of the last `beforeRename`.
            let index = instant == .beforeRename ? counter.append(path) : counter.paths.count
            if index == writeKill.index, instant == writeKill.instant { killSelf() }
        }
        return true
    }()

    private static func positive(_ text: String?) -> Int? {
        guard let text, let value = Int(text), value > 0 else { return nil }
        return value
    }

    private static func killSelf() -> Never {
        kill(getpid(), SIGKILL)
        // SIGKILL cannot be caught; this is never reached.
        _exit(137)
    }
}

/// The paths of the writes seen by the fault-injection hook, in order.
private final class WriteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var written: [String] = []

    var paths: [String] { lock.withLock { written } }

    /// Records a write; returns its number (from 1).
    func append(_ path: String) -> Int {
        lock.withLock {
            written.append(path)
            return written.count
        }
    }
}
