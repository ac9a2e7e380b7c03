import Foundation
import SSLMConfig
import SSLMCore
import SSLMDeploy
import SSLMObserve
import SSLMPKI
import SSLMPlan

/// `sync_production`: a service's sets copied into the production tree.
struct SyncProductionHandler: ActionHandler {
    static let kind = ActionKind.syncProduction

    /// `curr`: whether curr must exist.
    static func payload(of payload: ActionPayload) throws -> Bool {
        guard case .syncServiceProduction(let curr, _) = payload else { throw mismatch(payload) }
        return curr
    }

    func perform(_ payload: Bool, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.syncServiceProduction(action, currExpected: payload)
    }
}

/// `sync_apex_tlsa`: an apex's TLSA file copied into the production tree.
struct SyncApexTLSAHandler: ActionHandler {
    static let kind = ActionKind.syncApexTLSA

    static func payload(of payload: ActionPayload) throws -> String {
        guard case .syncApexTLSA(let apex) = payload else { throw mismatch(payload) }
        return apex
    }

    func perform(_ payload: String, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.syncApexProduction(apex: payload)
    }
}

extension ApplyRun {
    /// `<prod>/<g>/<s>/curr/` and `next/` replaced as whole directories by the files `ProductionLayout`
    /// includes (never a CA's private key); `next/` removed when there is no next. Each set is checked
    /// first (`verifyForProduction`): a damaged or unverifiable set is refused, leaving production as it
    /// was. Files get the modes sslm sets (`ProductionFileRule.mode`: keys 0600, others 0644), whatever
    /// their mode in `certs/`.
    fileprivate func syncServiceProduction(_ action: Action, currExpected: Bool) throws -> String? {
        let (address, service) = try service(of: action)
        let tree = ServiceTree(topdir: topdir, address: address)
        var done: [String] = []
        for slot in CertificateSlot.allCases {
            let destination = ProductionLayout.serviceDirectory(prodRoot: productionRoot, address: address, slot: slot)
            guard let name = try tree.target(of: slot.rawValue) else {
                if slot == .curr, currExpected {
                    throw SSLMError(.ioFailure, "\(tree.link("curr")) does not exist: production left as it is")
                }
                if FileOps.kind(destination) != .missing {
                    try ProductionSync.removeDirectory(at: destination, root: productionRoot)
                    done.append("\(slot.rawValue) removed")
                }
                continue
            }
            let source = tree.dbPath(name)
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: source).filter { file in
                    FileOps.kind(source + "/" + file) == .file
                        && ProductionLayout.includes(fileName: file, group: address.group)
                }.sorted()
            } catch {
                throw SSLMError(.ioFailure, "cannot list \(source)", underlying: error)
            }
            try verifyForProduction(directory: source, service: service)
            try ProductionSync.makeDirectories(productionRoot)
            try ProductionSync.replaceDirectory(
                at: destination, copying: names, from: source, root: productionRoot,
                mode: { mode_t(ProductionFileRule.mode(fileName: $0)) })
            done.append("\(slot.rawValue) = db/\(name) (\(names.count) files)")
        }
        return done.isEmpty ? "nothing to do" : done.joined(separator: "; ")
    }

    /// `<prod>/<apex>/tlsa.<apex>`, a copy of `certs/<apex>/tlsa.<apex>` (nothing when that is absent).
    fileprivate func syncApexProduction(apex: String) throws -> String? {
        let apex = try checked(apex: apex)
        let source = CertsLayout.tlsaFile(topdir: topdir, apex: apex)
        guard FileOps.kind(source) == .file else { return "no \(CertsLayout.tlsaFileName(apex: apex)) to copy" }
        try ProductionSync.makeDirectories(
            ProductionLayout.groupDirectory(prodRoot: productionRoot, group: apex), root: productionRoot)
        try ProductionSync.copyFile(
            from: source, to: ProductionLayout.tlsaFile(prodRoot: productionRoot, apex: apex), root: productionRoot)
        return nil
    }

    /// Refuses a set that must not reach production: a file that does not fit the set
    /// (`CertificateSetCheck`), a key that does not belong to the certificate, or a certificate whose
    /// issuer is not what the config says (self-signed, or the local CA's current subject). Throws an
    /// error naming the file.
    private func verifyForProduction(directory: String, service: ServiceConfig) throws {
        let names = CertificateFileSet.Name.self
        let certificatePath = directory + "/" + names.certificate
        try KeyCertificateMatch.require(keyPath: directory + "/" + names.privateKey, certificatePath: certificatePath)
        let problems = CertificateSetCheck.problems(directory: directory)
        if let file = problems.keys.sorted().first, let problem = problems[file] {
            throw SSLMError(
                .malformedInput,
                "\(directory)/\(file): \(problem): not copied to production (production left as it is); "
                    + "`sslm plan` shows the repair or renewal")
        }
        guard let leaf = try CertificatePEM.read(path: certificatePath).first else {
            throw SSLMError(.malformedInput, "\(certificatePath): no certificate")
        }
        switch service.signer {
        case .selfSigned:
            guard leaf.issuer == leaf.subject else {
                throw SSLMError(
                    .malformedInput,
                    "\(certificatePath): issued by \(DistinguishedNameText.rfc4514(leaf.issuer)), but "
                        + "\(service.file) says self-signed: not copied to production")
            }
        case .authority(let name):
            guard let authority = config.certificateAuthorities[name], authority.isLocal else { return }
            let caPath = CertsLayout.certificateFile(topdir: topdir, address: authority.localAddress, slot: .curr)
            guard let ca = try? CertificatePEM.read(path: caPath).first else { return }
            guard leaf.issuer == ca.subject else {
                throw SSLMError(
                    .malformedInput,
                    "\(certificatePath): issued by \(DistinguishedNameText.rfc4514(leaf.issuer)), not by CA \(name) "
                        + "(\(DistinguishedNameText.rfc4514(ca.subject))): not copied to production")
            }
        }
    }
}
