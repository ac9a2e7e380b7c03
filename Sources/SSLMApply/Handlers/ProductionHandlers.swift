import Foundation
import SSLMCore
import SSLMDeploy
import SSLMObserve
import SSLMPKI
import SSLMPlan

/// Handlers of the production tree: sync_production (service and apex).
extension ApplyRun {
    var productionRoot: String { config.globals.prodCertDir }

    /// `<prod>/<g>/<s>/curr/` and `next/` replaced as whole directories by the files `ProductionLayout`
    /// includes (never a CA's private key); `next/` removed when there is no next. Each set is checked
    /// first (`verifyForProduction`): a damaged or unverifiable set is refused, leaving production as it
    /// was. Files get the modes sslm sets (`ProductionFileRule.mode`: keys 0600, others 0644), whatever
    /// their mode in `certs/`.
    func syncServiceProduction(_ action: Action, currExpected: Bool) throws -> String? {
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
    func syncApexProduction(apex: String) throws -> String? {
        let apex = try checked(apex: apex)
        let source = CertsLayout.tlsaFile(topdir: topdir, apex: apex)
        guard FileOps.kind(source) == .file else { return "no \(CertsLayout.tlsaFileName(apex: apex)) to copy" }
        try ProductionSync.makeDirectories(
            ProductionLayout.groupDirectory(prodRoot: productionRoot, group: apex), root: productionRoot)
        try ProductionSync.copyFile(
            from: source, to: ProductionLayout.tlsaFile(prodRoot: productionRoot, apex: apex), root: productionRoot)
        return nil
    }
}
