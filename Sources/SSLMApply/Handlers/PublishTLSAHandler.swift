import Foundation
import Logging
import SSLMCore
import SSLMDeploy
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `publish_tlsa`: an apex's TLSA file copied into each `[dns] tlsa_dirs` (from the config; the payload's
/// directories describe them).
struct PublishTLSAHandler: ActionHandler {
    static let kind = ActionKind.publishTLSA

    static func payload(of payload: ActionPayload) throws -> String {
        guard case .publishTLSA(let apex, _) = payload else { throw mismatch(payload) }
        return apex
    }

    func perform(_ apex: String, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.publishTLSA(apex: apex)
    }
}

extension ApplyRun {
    /// Copies `certs/<apex>/tlsa.<apex>` into each `[dns] tlsa_dirs` directory (from the config), creating
    /// them (0750) when needed; each copy is atomic.
    fileprivate func publishTLSA(apex: String) throws -> String? {
        let apex = try checked(apex: apex)
        let source = CertsLayout.tlsaFile(topdir: topdir, apex: apex)
        guard FileOps.kind(source) == .file else {
            throw SSLMError(.ioFailure, "\(source) does not exist: nothing to publish")
        }
        // Paths come from the config (the plan's `directories` only describe them).
        let directories = config.dns.tlsaDirs
        guard !directories.isEmpty else {
            throw SSLMError(.configInvalid, "[dns] tlsa_dirs is empty: nowhere to publish tlsa.\(apex)")
        }
        for directory in directories {
            let absolute = directory.hasPrefix("/") ? directory : topdir + "/" + directory
            try ProductionSync.makeDirectories(absolute, root: absolute)
            try ProductionSync.copyFile(
                from: source, to: absolute + "/" + CertsLayout.tlsaFileName(apex: apex), root: absolute)
        }
        return "copied to \(directories.joined(separator: ", "))"
    }
}
