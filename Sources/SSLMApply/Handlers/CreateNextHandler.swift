import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `create_next`: a new dated db directory and `next` pointing to it. Its detail `db/<name>` is what `roll`
/// rolls when the plan does not name the directory.
struct CreateNextHandler: ActionHandler {
    static let kind = ActionKind.createNext
    static let resume = ResumeRule.detailForLaterActions

    static func payload(of payload: ActionPayload) throws -> Void {
        guard case .createNext = payload else { throw mismatch(payload) }
    }

    func perform(_: Void, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.createNext(action)
    }
}

extension ApplyRun {
    /// `certs/<g>/<s>/db/<YYYYmmdd-HH:MM:SS>/` (0750) and `next` → `db/<name>`. The name is the apply
    /// time in local time; when taken, the next free second is used. Always a new directory: a pending
    /// next is resumed by the planner, which then plans no `create_next`.
    fileprivate func createNext(_ action: Action) throws -> String? {
        let (address, _) = try service(of: action)
        let tree = ServiceTree(topdir: topdir, address: address)
        try FileOps.makeDirectories(tree.dbDirectory, root: topdir)
        var name = ""
        var created = false
        for offset in 0..<3600 {
            name = Timestamps.dbDirectoryName(now.addingTimeInterval(TimeInterval(offset)))
            guard FileOps.kind(tree.dbPath(name)) == .missing else { continue }
            try FileOps.makeDirectory(tree.dbPath(name), allowExisting: false, root: topdir)
            created = true
            break
        }
        guard created else {
            throw SSLMError(.ioFailure, "\(tree.dbDirectory): no free db directory name near \(name)")
        }
        try FileOps.syncDirectory(tree.dbDirectory)
        try AtomicFile.symlink(target: CertsLayout.linkTarget(dbName: name), at: tree.link("next"), root: topdir)
        return "db/" + name
    }
}
