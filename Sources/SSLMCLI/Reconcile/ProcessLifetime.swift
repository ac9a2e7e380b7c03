import Foundation

/// Keeps large values alive until the process exits, so a short-lived command does not spend time freeing
/// them one object at a time on its way out: the OS reclaims the whole address space at exit at once.
///
/// For `plan` and `status` only, whose `PlanSession` (config, observation) and `Plan` are a graph of
/// millions of small objects over 10,000 services (freeing it took ~30 ms of a ~1 s run). Values handed
/// here are never freed; do not use it in a loop, in a long-lived process, or for anything holding
/// resources that must be released (locks, file handles, temporary files) — `deinit`s never run.
enum ProcessLifetime {
    private final class Holder: @unchecked Sendable {
        let lock = NSLock()
        var values: [Any] = []
    }

    private static let holder = Holder()

    /// Retains `value` until the process exits.
    static func keepUntilExit(_ value: Any) {
        holder.lock.lock()
        holder.values.append(value)
        holder.lock.unlock()
    }

    /// How many values are kept (for tests).
    static var count: Int {
        holder.lock.lock()
        defer { holder.lock.unlock() }
        return holder.values.count
    }
}
