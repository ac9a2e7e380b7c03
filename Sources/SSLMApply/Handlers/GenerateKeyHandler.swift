import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `generate_key`: a new key for `next`, of the type the config names (the payload's key describes it).
struct GenerateKeyHandler: ActionHandler {
    static let kind = ActionKind.generateKey

    static func payload(of payload: ActionPayload) throws -> KeySpec {
        guard case .generateKey(let key) = payload else { throw mismatch(payload) }
        return key
    }

    func perform(_: KeySpec, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.generateKey(action)
    }
}

extension ApplyRun {
    /// `next/privkey.pem`: a new key of the configured type, PKCS#8, 0600.
    fileprivate func generateKey(_ action: Action) throws -> String? {
        let (address, service) = try service(of: action)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        let key = try KeyPair.generate(service.key)
        try key.write(to: next + "/" + CertificateFileSet.Name.privateKey, root: topdir)
        return key.label
    }
}
