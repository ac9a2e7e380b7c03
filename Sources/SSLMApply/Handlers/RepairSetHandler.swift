import Foundation
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `repair_set`: the damaged derived files of a set rebuilt, its key files given mode 0600.
struct RepairSetHandler: ActionHandler {
    static let kind = ActionKind.repairSet

    /// The set, the derived files to rebuild and the key files to give mode 0600.
    typealias Payload = (slot: CertificateSlot, rebuild: [String], modes: [String])

    static func payload(of payload: ActionPayload) throws -> Payload {
        guard case .repairSet(let slot, let rebuild, let modes) = payload else { throw mismatch(payload) }
        return (slot, rebuild, modes)
    }

    func perform(_ payload: Payload, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.repairSet(action, slot: payload.slot, rebuild: Set(payload.rebuild), modes: payload.modes)
    }
}

extension ApplyRun {
    /// Rebuilds the derived files the plan lists (`rebuild`: `chain.pem`, `fullchain.pem`, `bundle.pem`)
    /// of the set `slot` (`curr` or `next`) points to, from its key and certificate and — for the chain —
    /// the certificate itself (self-signed) or the signing local CA's current `fullchain.pem`, after
    /// checking that the key belongs to the certificate and that the issuer signed it; then gives the key
    /// files in `modes` mode 0600. The repaired set is checked as a whole (`CertificateSetCheck`) before
    /// the action succeeds. An ACME chain cannot be rebuilt (the planner renews instead).
    fileprivate func repairSet(_ action: Action, slot: CertificateSlot, rebuild: Set<String>, modes: [String]) throws
        -> String?
    {
        let (address, service) = try service(of: action)
        let directory = try ServiceTree(topdir: topdir, address: address).required(slot.rawValue)
        let names = CertificateFileSet.Name.self
        var done: [String] = []
        if !rebuild.isEmpty {
            let keyPath = directory + "/" + names.privateKey
            let certificatePath = directory + "/" + names.certificate
            let certificateBytes = try FileBytes.read(certificatePath)
            guard let leaf = try CertificatePEM.decodeAll(certificateBytes, file: certificatePath).first else {
                throw SSLMError(.malformedInput, "\(certificatePath): no certificate")
            }
            try KeyCertificateMatch.require(keyPath: keyPath, certificatePath: certificatePath)
            let certificateText = Self.withFinalNewline(String(decoding: certificateBytes, as: UTF8.self))
            let chainText: String
            if rebuild.contains(names.chain) {
                chainText = try rebuiltChain(for: leaf, certificateText: certificateText, service: service)
                try AtomicFile.write(text: chainText, to: directory + "/" + names.chain, root: topdir)
                done.append(names.chain)
            } else {
                chainText = Self.withFinalNewline(
                    String(decoding: try FileBytes.read(directory + "/" + names.chain), as: UTF8.self))
            }
            if rebuild.contains(names.fullchain) {
                // Self-signed: chain.pem is the certificate and fullchain.pem the certificate once.
                let chainFirst = try PEMBlock.parseAll(Array(chainText.utf8), file: names.chain).first?.derBytes
                let selfSigned =
                    chainFirst == (try PEMBlock.parseAll(certificateBytes, file: names.certificate).first?.derBytes)
                let fullchain = selfSigned ? certificateText : certificateText + chainText
                try AtomicFile.write(text: fullchain, to: directory + "/" + names.fullchain, root: topdir)
                done.append(names.fullchain)
            }
            if rebuild.contains(names.bundle) {
                try CertificateFileSet.writeBundle(in: directory, root: topdir)
                done.append(names.bundle)
            }
            let problems = CertificateSetCheck.problems(directory: directory)
            if let file = problems.keys.sorted().first, let problem = problems[file] {
                throw SSLMError(
                    .malformedInput,
                    "\(directory)/\(file): still damaged after the repair (\(problem)); a new certificate is needed: "
                        + "run `sslm apply --force` for \(address)")
            }
        }
        var changedModes: [String] = []
        for file in modes where ProductionFileRule.privateFiles.contains(file) {
            let path = directory + "/" + file
            guard FileOps.kind(path) == .file else { continue }
            guard chmod(path, AtomicFile.privateMode) == 0 else {
                throw SSLMError(.ioFailure, "cannot chmod 0600 \(path): \(String(cString: strerror(errno)))")
            }
            changedModes.append(file)
        }
        var parts: [String] = []
        if !done.isEmpty { parts.append("rebuilt " + done.joined(separator: ", ")) }
        if !changedModes.isEmpty { parts.append("mode 0600: " + changedModes.joined(separator: ", ")) }
        return parts.isEmpty ? "nothing to do" : parts.joined(separator: "; ")
    }

    /// `chain.pem` for `leaf`: the certificate itself when the service is self-signed, else the signing
    /// local CA's current `fullchain.pem` — after checking that the issuer signed `leaf`.
    private func rebuiltChain(for leaf: Certificate, certificateText: String, service: ServiceConfig) throws -> String {
        switch service.signer {
        case .selfSigned:
            guard leaf.issuer == leaf.subject, leaf.publicKey.isValidSignature(leaf.signature, for: leaf) else {
                throw SSLMError(
                    .keyMismatch, "\(service.address): cert.pem is not self-signed: its chain cannot be rebuilt")
            }
            return certificateText
        case .authority(let name):
            guard let authority = config.certificateAuthorities[name], authority.isLocal else {
                throw SSLMError(
                    .invalidArgument,
                    "\(service.address): the chain of a certificate of the ACME CA \(name) cannot be rebuilt; "
                        + "make a new plan (it renews the certificate)")
            }
            let caCurr = try ServiceTree(topdir: topdir, address: authority.localAddress).required("curr")
            let caCertificatePath = caCurr + "/" + CertificateFileSet.Name.certificate
            guard let caCertificate = try CertificatePEM.read(path: caCertificatePath).first else {
                throw SSLMError(.malformedInput, "\(caCertificatePath): no certificate")
            }
            guard leaf.issuer == caCertificate.subject,
                caCertificate.publicKey.isValidSignature(leaf.signature, for: leaf)
            else {
                throw SSLMError(
                    .keyMismatch,
                    "\(service.address): cert.pem was not issued by CA \(name)'s current certificate "
                        + "(\(caCertificatePath)): its chain cannot be rebuilt; make a new plan")
            }
            let fullchainPath = caCurr + "/" + CertificateFileSet.Name.fullchain
            let text = String(decoding: try FileBytes.read(fullchainPath), as: UTF8.self)
            guard !text.isEmpty else { throw SSLMError(.malformedInput, "\(fullchainPath) is empty") }
            return Self.withFinalNewline(text)
        }
    }

    private static func withFinalNewline(_ text: String) -> String {
        text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
    }
}
