import Foundation
import Logging
import SSLMCore
import SSLMDeploy
import SSLMObserve
import SSLMPKI
import SSLMPlan
import X509

/// `write_tlsa`: a service's `next/tlsa.rr` (its `dane_tls` from the config).
struct WriteTLSAHandler: ActionHandler {
    static let kind = ActionKind.writeTLSA

    static func payload(of payload: ActionPayload) throws {
        guard case .writeServiceTLSA = payload else { throw mismatch(payload) }
    }

    func perform(_ payload: Void, of action: Action, in context: ActionContext) async throws -> String? {
        try context.run.writeServiceTLSA(action, logger: context.logger)
    }
}

/// `write_apex_tlsa`: an apex's `certs/<apex>/tlsa.<apex>` (both share how the file is built, below).
struct WriteApexTLSAHandler: ActionHandler {
    static let kind = ActionKind.writeApexTLSA

    static func payload(of payload: ActionPayload) throws -> (apex: String, rolling: Bool) {
        guard case .writeApexTLSA(let apex, let rolling) = payload else { throw mismatch(payload) }
        return (apex, rolling)
    }

    func perform(_ payload: (apex: String, rolling: Bool), of action: Action, in context: ActionContext)
        async throws -> String?
    {
        try context.run.writeApexTLSA(apex: payload.apex, rolling: payload.rolling, logger: context.logger)
    }
}

extension ApplyRun {
    /// `next/tlsa.rr`: the records of next's certificate for the service's `dane_tls` (spec §3.10). The
    /// records come from `TLSAFileBuilder`, the same code that builds `tlsa.<apex>`, so both agree — also
    /// when DNS facts are missing and published MX owners are kept.
    fileprivate func writeServiceTLSA(_ action: Action, logger: Logger) throws -> String? {
        let (address, service) = try service(of: action)
        let tree = ServiceTree(topdir: topdir, address: address)
        guard let nextName = try tree.target(of: "next") else {
            throw SSLMError(.ioFailure, "\(tree.link("next")) does not exist")
        }
        let certificatePath = tree.dbPath(nextName) + "/" + CertificateFileSet.Name.certificate
        guard let certificate = try CertificatePEM.read(path: certificatePath).first else {
            throw SSLMError(.malformedInput, "\(certificatePath): no certificate")
        }
        let apex = address.group
        let output = TLSAFileBuilder.build(
            apex: apex, config: config, dns: dnsFacts(apex), existingFile: existingApexFile(apex), rolling: false,
            certificate: { candidate, slot in candidate == address && slot == .next ? certificate : nil },
            issuer: { candidate, slot in
                candidate == address && slot == .next
                    ? try TLSAFileBuilder.diskIssuer(topdir: self.topdir, address: address, slot: .next) : nil
            })
        output.warnings.forEach { logger.warning("\($0)") }
        if let note = output.note { logger.warning("\(note)") }
        let records = TLSAServiceFile.recordLines(of: output.content ?? "").flatMap { $0 }
        guard !records.isEmpty else {
            throw SSLMError(
                .invalidArgument, "\(service.file): dane_tls gives no TLSA record for \(certificatePath)")
        }
        let text =
            ([";;", ";; tlsa \(apex) \(address.service) \(nextName)", ";;"] + records)
            .joined(separator: "\n") + "\n"
        try AtomicFile.write(text: text, to: tree.dbPath(nextName) + "/" + CertificateFileSet.Name.tlsa, root: topdir)
        return "\(records.count) record lines"
    }

    /// `certs/<apex>/tlsa.<apex>` from the curr and next certificates of the apex's DANE services. When
    /// there is no row at all the previous file (if any) is left as it is (spec §3.10).
    fileprivate func writeApexTLSA(apex: String, rolling: Bool, logger: Logger) throws -> String? {
        let apex = try checked(apex: apex)
        let output = TLSAFileBuilder.build(
            apex: apex, config: config, dns: dnsFacts(apex), existingFile: existingApexFile(apex), rolling: rolling)
        output.warnings.forEach { logger.warning("\($0)") }
        if let note = output.note { logger.warning("\(note)") }
        guard let content = output.content else {
            let path = CertsLayout.tlsaFile(topdir: topdir, apex: apex)
            guard TLSAFileBuilder.daneServices(apex: apex, config: config).isEmpty, FileOps.kind(path) == .file else {
                return "no TLSA rows: \(CertsLayout.tlsaFileName(apex: apex)) left as it is"
            }
            // The services that had records were retired: the file is emptied, never removed (a zone may
            // include it), and its copies follow.
            let text = ";;\n;; tlsa.\(apex): no configured service of \(apex) has DANE; records withdrawn by sslm\n;;\n"
            try AtomicFile.write(text: text, to: path, root: topdir)
            return "emptied: no configured service of \(apex) has DANE"
        }
        try FileOps.makeDirectories(CertsLayout.groupDirectory(topdir: topdir, group: apex), root: topdir)
        try AtomicFile.write(text: content, to: CertsLayout.tlsaFile(topdir: topdir, apex: apex), root: topdir)
        return output.normalisedDigest
    }

    private func existingApexFile(_ apex: String) -> String? {
        let path = CertsLayout.tlsaFile(topdir: topdir, apex: apex)
        return (try? BoundedFile.read(path, limit: .state)).map { String(decoding: $0, as: UTF8.self) }
    }
}
