import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `sign_local`: `next`'s certificate and chain, self-signed or from a local CA (the signer and policy come
/// from the config; the payload describes them).
struct SignLocalHandler: ActionHandler {
    static let kind = ActionKind.signLocal

    static func payload(of payload: ActionPayload) throws -> ActionPayload.LocalSigning {
        guard case .signLocal(let signing) = payload else { throw mismatch(payload) }
        return signing
    }

    func perform(_: ActionPayload.LocalSigning, of action: Action, in context: ActionContext) async throws
        -> String?
    {
        try context.run.signLocal(action)
    }
}

extension ApplyRun {
    /// `next/cert.pem`, `chain.pem`, `fullchain.pem`: self-signed with the service's own `[CA]`, or
    /// signed by a local CA with `certs/ca/<ca>/curr/{privkey,cert}.pem` and the CA's `[CA]` (spec §3.3).
    fileprivate func signLocal(_ action: Action) throws -> String? {
        let (address, service) = try service(of: action)
        let next = try ServiceTree(topdir: topdir, address: address).required("next")
        let keyPath = next + "/" + CertificateFileSet.Name.privateKey
        let requestPath = next + "/" + CertificateFileSet.Name.request
        let key = try KeyPair.read(path: keyPath)
        let request = try CertificateRequestBuilder.parse(
            pem: String(decoding: try FileBytes.read(requestPath), as: UTF8.self), file: requestPath)
        guard key.matches(request.publicKey) else {
            throw SSLMError(.keyMismatch, "\(requestPath) was not made for \(keyPath): make a new plan")
        }
        let role = Self.role(of: address)
        switch service.signer {
        case .selfSigned:
            let policy = try SigningPolicy.fromCASection(
                signEndDays: service.signing?.validityDays, digest: service.signing?.digest, signerFile: service.file)
            let certificate = try LocalSigner.selfSign(request: request, key: key, role: role, policy: policy, now: now)
            let pem = try CertificatePEM.encode(certificate)
            try CertificateFileSet.writeCertificates(
                certificatePEM: pem, chainPEM: pem, fullchainPEM: pem, to: next, root: topdir)
            return "self-signed, valid \(policy.validityDays) d"
        case .authority(let name):
            guard let authority = config.certificateAuthorities[name] else {
                throw SSLMError(.configInvalid, "\(service.file): signing_ca '\(name)' is not in ca-info.conf")
            }
            guard authority.isLocal else {
                throw SSLMError(.invalidArgument, "\(name) is an ACME CA: sign_local cannot issue from it")
            }
            let caAddress = authority.localAddress
            guard let caService = config.service(caAddress) else {
                throw SSLMError(.configInvalid, "local CA \(name) has no service file conf.d/\(caAddress)")
            }
            let caCurr = try ServiceTree(topdir: topdir, address: caAddress).required("curr")
            let policy = try SigningPolicy.fromCASection(
                signEndDays: caService.signing?.validityDays, digest: caService.signing?.digest,
                signerFile: caService.file)
            let signer = try LocalSigner(
                keyPath: caCurr + "/" + CertificateFileSet.Name.privateKey,
                certificatePath: caCurr + "/" + CertificateFileSet.Name.certificate, policy: policy)
            let certificate = try signer.sign(request: request, role: role, now: now)
            let certificatePEM = try CertificatePEM.encode(certificate)
            let chainPath = caCurr + "/" + CertificateFileSet.Name.fullchain
            var chainPEM = String(decoding: try FileBytes.read(chainPath), as: UTF8.self)
            guard !chainPEM.isEmpty else { throw SSLMError(.malformedInput, "\(chainPath) is empty") }
            if !chainPEM.hasSuffix("\n") { chainPEM += "\n" }
            try CertificateFileSet.writeCertificates(
                certificatePEM: certificatePEM, chainPEM: chainPEM, fullchainPEM: certificatePEM + chainPEM, to: next,
                root: topdir)
            return "signed by \(name), valid \(policy.validityDays) d"
        }
    }
}
