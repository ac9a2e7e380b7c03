import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `reuse_key`: `next`'s key copied from `curr`.
struct ReuseKeyHandler: ActionHandler {
    static let kind = ActionKind.reuseKey

    static func payload(of payload: ActionPayload) throws -> KeySpec {
        guard case .reuseKey(let key) = payload else { throw mismatch(payload) }
        return key
    }

    func perform(_: KeySpec, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.reuseKey(action)
    }
}

extension ApplyRun {
    /// `next/privkey.pem`: a copy of `curr/privkey.pem` (0600), checked to be a readable key of the
    /// configured type.
    fileprivate func reuseKey(_ action: Action) throws -> String? {
        let (address, service) = try service(of: action)
        let tree = ServiceTree(topdir: topdir, address: address)
        let source = try tree.required("curr") + "/" + CertificateFileSet.Name.privateKey
        let next = try tree.required("next")
        let bytes = try FileBytes.read(source)
        let key = try KeyPair(pem: String(decoding: bytes, as: UTF8.self), file: source)
        guard key.spec == service.key else {
            throw SSLMError(
                .invalidArgument,
                "\(source) is a \(key.spec) key but \(service.file) asks for \(service.key): the key cannot be reused")
        }
        try AtomicFile.write(
            bytes, to: next + "/" + CertificateFileSet.Name.privateKey, mode: AtomicFile.privateMode, root: topdir)
        return "reused \(key.label) of curr"
    }
}
