import Foundation
import Logging
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan

/// `clean`: old db directories removed.
struct CleanHandler: ActionHandler {
    static let kind = ActionKind.clean

    static func payload(of payload: ActionPayload) throws -> [String] {
        guard case .clean(let remove) = payload else { throw mismatch(payload) }
        return remove
    }

    func perform(_ remove: [String], of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.clean(action, remove: remove, logger: context.logger)
    }
}

extension ApplyRun {
    /// Removes the listed db directories — never one that `curr`, `next` or `prev` points to now, and never
    /// anything that is not a dated directory. Already-removed ones are fine.
    fileprivate func clean(_ action: Action, remove: [String], logger: Logger) throws -> String? {
        let (address, _) = try service(of: action)
        let tree = ServiceTree(topdir: topdir, address: address)
        var protected: Set<String> = []
        for link in ["curr", "next", "prev"] {
            // A broken link protects nothing, but must not stop the cleanup of other directories.
            if let name = try? tree.target(of: link) { protected.insert(name) }
            if FileOps.kind(tree.link(link)) == .symlink, let raw = FileOps.linkTarget(tree.link(link)) {
                protected.insert((raw as NSString).lastPathComponent)
            }
        }
        var removed: [String] = []
        var kept: [String] = []
        for name in remove {
            guard Timestamps.isDBDirectoryName(name) else {
                kept.append(name)
                logger.warning("not removing db/\(SafeName.printable(name)): not a dated db directory")
                continue
            }
            if protected.contains(name) {
                kept.append(name)
                logger.warning("not removing db/\(name): curr, next or prev points to it")
                continue
            }
            let path = tree.dbPath(name)
            switch FileOps.kind(path) {
            case .missing: continue
            case .directory:
                do {
                    try FileManager.default.removeItem(atPath: path)
                } catch {
                    throw SSLMError(.ioFailure, "cannot remove \(path)", underlying: error)
                }
                removed.append(name)
            default:
                kept.append(name)
                logger.warning("not removing db/\(name): not a directory")
            }
        }
        try FileOps.syncDirectory(tree.dbDirectory)
        var parts = ["removed \(removed.count)"]
        if !kept.isEmpty { parts.append("kept \(kept.joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }
}
