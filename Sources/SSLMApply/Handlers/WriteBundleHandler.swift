import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `write_bundle`: `next/bundle.pem`.
struct WriteBundleHandler: ActionHandler {
    static let kind = ActionKind.writeBundle

    static func payload(of payload: ActionPayload) throws -> Void {
        guard case .writeBundle = payload else { throw mismatch(payload) }
    }

    func perform(_: Void, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.writeBundle(action)
    }
}

extension ApplyRun {
    /// `next/bundle.pem` (0600): key + fullchain, after checking the key belongs to the certificate.
    fileprivate func writeBundle(_ action: Action) throws -> String? {
        let (address, _) = try service(of: action)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        try CertificateFileSet.writeBundle(in: next, root: topdir)
        return nil
    }
}
