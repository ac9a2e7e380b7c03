import Foundation
import Logging
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan

/// `roll`: `next` becomes `curr`. The db directory rolled is the plan's, or else the one `create_next`
/// recorded (`ActionContext.recorded`).
struct RollHandler: ActionHandler {
    static let kind = ActionKind.roll

    /// The db directory the plan rolls; nil: the one `create_next` makes in this run.
    struct Payload {
        var next: String?
    }

    static func payload(of payload: ActionPayload) throws -> Payload {
        guard case .roll(let next) = payload else { throw mismatch(payload) }
        return Payload(next: next)
    }

    func perform(_ payload: Payload, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.roll(action, next: payload.next, recorded: context.recorded)
    }
}

extension ApplyRun {
    /// `prev` ← `curr` ← `next`, `next` removed, `curr/info` written. `info` is written into next's directory
    /// first; then `prev` is switched (the rename of a temporary link), and `next` is renamed over `curr`:
    /// one step that makes the new directory curr and removes next, so no crash leaves `curr` and `next`
    /// pointing at the same directory or a curr without `info`. Idempotent after a crash at any point (and
    /// for a `curr` that already points at the rolled directory, from older runs): it is not moved to
    /// `prev` again.
    fileprivate func roll(_ action: Action, next plannedNext: String?, recorded: [String: String]) throws -> String? {
        let (address, _) = try service(of: action)
        let tree = ServiceTree(topdir: topdir, address: address)
        let expected: String? = {
            if let name = plannedNext, !name.isEmpty {
                return name.hasPrefix("db/") ? String(name.dropFirst(3)) : name
            }
            // The directory `create_next` made, in this run or an earlier run of the plan: its detail `db/<name>`.
            guard let detail = recorded[ActionID.service(address, .nextDirectory).description],
                detail.hasPrefix("db/")
            else { return nil }
            return String(detail.dropFirst(3))
        }()
        let next = try tree.target(of: "next")
        // A curr link whose db directory is gone is what this roll replaces (the planner rolls at once when
        // curr is unusable); anything else that is not a link to db/ stops the roll.
        let curr: String?
        do {
            curr = try tree.target(of: "curr")
        } catch  where FileOps.kind(tree.link("curr")) == .symlink && next != nil {
            curr = nil
        }
        guard let next else {
            // Already rolled (a crash after removing next, before the journal said so)?
            if let expected, curr == expected {
                try writeInfo(tree: tree, dbName: expected, service: address.service)
                return "db/\(expected) is already curr"
            }
            throw SSLMError(.ioFailure, "\(tree.link("next")) does not exist: nothing to roll; make a new plan")
        }
        if let expected, expected != next {
            throw SSLMError(
                .ioFailure, "next points to db/\(next), but the plan rolls db/\(expected): make a new plan")
        }
        let missing = Self.rollRequiredFiles.filter { FileOps.kind(tree.dbPath(next) + "/" + $0) != .file }
        guard missing.isEmpty else {
            throw SSLMError(.ioFailure, "next (db/\(next)) lacks \(missing.joined(separator: ", ")): not rolled")
        }
        try KeyCertificateMatch.require(
            keyPath: tree.dbPath(next) + "/" + CertificateFileSet.Name.privateKey,
            certificatePath: tree.dbPath(next) + "/" + CertificateFileSet.Name.certificate)
        try writeInfo(tree: tree, dbName: next, service: address.service)
        if let curr, curr != next {
            try AtomicFile.symlink(target: CertsLayout.linkTarget(dbName: curr), at: tree.link("prev"), root: topdir)
        }
        if curr == next {
            try FileOps.removeLink(tree.link("next"), root: topdir)
        } else {
            let canonical = CertsLayout.linkTarget(dbName: next)
            if FileOps.linkTarget(tree.link("next")) != canonical {
                try AtomicFile.symlink(target: canonical, at: tree.link("next"), root: topdir)
            }
            try FileOps.renameLink(tree.link("next"), over: tree.link("curr"), root: topdir)
        }
        return curr.map { "db/\(next) is curr, db/\($0) is prev" } ?? "db/\(next) is curr"
    }

    /// Files `next` must hold before it becomes curr (spec §3.2).
    private static let rollRequiredFiles = [
        CertificateFileSet.Name.privateKey, CertificateFileSet.Name.certificate, CertificateFileSet.Name.request,
        CertificateFileSet.Name.chain, CertificateFileSet.Name.fullchain, CertificateFileSet.Name.bundle,
    ]

    private func writeInfo(tree: ServiceTree, dbName: String, service: String) throws {
        let text = "# \(service) rolled to curr : \(Timestamps.dbDirectoryName(now))\n"
        try AtomicFile.write(text: text, to: tree.dbPath(dbName) + "/info", root: topdir)
    }
}
