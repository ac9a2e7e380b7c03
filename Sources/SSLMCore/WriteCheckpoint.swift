/// Test-only: the two instants of an atomic replacement at which a crash matters — the new content is
/// complete and flushed but not yet in place (`beforeRename`), or in place but its directory not yet
/// flushed and the old set not yet removed (`afterRename`).
///
/// The crash-safe writers (`AtomicFile` in SSLMPKI, `ProductionSync` in SSLMDeploy) report both instants
/// of every write here; SSLMApply's `FaultInjection` installs a hook that kills the process at a chosen
/// write (`SSLM_FAULT_KILL_IN_WRITE`, Docs/apply.md "Testing"). Without a hook a report is one load and
/// branch. Must not be used for anything but crash tests: the hook is a process-wide variable, set once
/// before any write and never changed afterwards.
public enum WriteCheckpoint: Sendable {
    case beforeRename, afterRename

    /// The installed hook; nil (the default) outside crash tests.
    nonisolated(unsafe) public static var hook: (@Sendable (WriteCheckpoint, String) -> Void)?

    /// Reports that the write of `path` reached `instant`.
    @inline(__always)
    public static func reach(_ instant: WriteCheckpoint, _ path: String) {
        if let hook { hook(instant, path) }
    }
}
