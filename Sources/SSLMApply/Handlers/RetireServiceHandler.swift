import Foundation
import Logging
import SSLMCore
import SSLMDeploy
import SSLMObserve
import SSLMPKI
import SSLMPlan

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `retire_service`: a service that left the config retired — curr revoked first when asked, its
/// production directory removed, the ledger records of its certificates marked retired, and
/// `certs/<group>/<service>` archived as `certs/.retired/<group>/<service>/<time>/` (one rename in the same
/// file system, never a copy and a delete; the archive's directories are 0700, the key files keep 0600).
///
/// Idempotent and resumable: each step checks the disk (a revocation the ledger records is not sent again,
/// a missing production directory is fine), and the rename comes last, so a service whose directory is
/// gone is done. Copies on remote servers are not removed.
struct RetireServiceHandler: ActionHandler {
    static let kind = ActionKind.retireService

    static func payload(of payload: ActionPayload) throws -> Bool {
        guard case .retireService(_, let revoke) = payload else { throw mismatch(payload) }
        return revoke
    }

    func perform(_ revoke: Bool, of action: Action, in context: ActionContext) async throws -> String? {
        try await context.run.retire(action, revoke: revoke, logger: context.logger)
    }
}

extension ApplyRun {
    /// Mode of the directories under `certs/.retired/` (the archive holds private keys).
    static let retiredDirectoryMode: mode_t = 0o700

    fileprivate func retire(_ action: Action, revoke: Bool, logger: Logger) async throws -> String? {
        let address = try retiredAddress(of: action)
        let source = CertsLayout.serviceDirectory(topdir: topdir, address: address)
        var parts: [String] = []
        let present = FileOps.kind(source)
        guard present == .directory || present == .missing else {
            throw SSLMError(.ioFailure, "\(display(source)) is not a directory: move it away, then apply again")
        }
        if present == .directory {
            if revoke {
                parts.append(
                    try await Revocation.revokeRetired(
                        certificatePath: source + "/curr/cert.pem", config: config, logger: logger, now: now))
            }
            try markRetired(serviceDirectory: source)
        }
        let production = ProductionLayout.serviceDirectory(prodRoot: productionRoot, address: address)
        if FileOps.kind(production) != .missing {
            try ProductionSync.removeDirectory(at: production, root: productionRoot)
            parts.append("removed \(display(production))")
        }
        if present == .directory {
            parts.append("archived to \(display(try archive(address)))")
        } else {
            parts.append("\(display(source)) already archived")
        }
        logger.info("retired \(address): \(parts.joined(separator: "; "))")
        return parts.joined(separator: "; ")
    }

    /// The address of a `retire_service`, refused when the service is in the config again.
    private func retiredAddress(of action: Action) throws -> ServiceAddress {
        guard let text = action.service, let address = ServiceAddress(planText: text) else {
            throw SSLMError(.malformedInput, "action \(action.id) (retire_service) names no group/service")
        }
        guard config.service(address) == nil else {
            throw SSLMError(.configInvalid, "\(address) is in the configuration again: make a new plan")
        }
        return address
    }

    /// `certs/.retired/<group>/<service>/<time>`: a new name (a second retirement in the same second gets
    /// `.2`, `.3`, …), its parents made 0700; then the rename and the fsync of both directories.
    private func archive(_ address: ServiceAddress) throws -> String {
        let groupDirectory = CertsLayout.groupDirectory(topdir: topdir, group: address.group)
        let retiredRoot = CertsLayout.certsDirectory(topdir: topdir) + "/.retired"
        let target = retiredRoot + "/" + address.group + "/" + address.service
        let from = try ConfinedDirectory.open(groupDirectory, below: topdir)
        let to = try ConfinedDirectory.open(target, below: topdir, createMode: Self.retiredDirectoryMode)
        for directory in [retiredRoot, retiredRoot + "/" + address.group, target] {
            guard chmod(directory, Self.retiredDirectoryMode) == 0 else {
                throw FileOps.posixError("cannot chmod \(directory)")
            }
        }
        let base = Timestamps.dbDirectoryName(now)
        var name = base
        var counter = 1
        while to.kind(of: name) != .missing {
            counter += 1
            name = base + ".\(counter)"
        }
        WriteCheckpoint.reach(.beforeRename, target + "/" + name)
        guard renameat(from.descriptor, address.service, to.descriptor, name) == 0 else {
            throw FileOps.posixError(
                "cannot move \(display(groupDirectory + "/" + address.service)) to \(display(target + "/" + name))"
                    + " (it must be in the same file system as certs/; nothing was removed)")
        }
        WriteCheckpoint.reach(.afterRename, target + "/" + name)
        let archived = try to.child(name)
        guard fchmod(archived.descriptor, Self.retiredDirectoryMode) == 0 else {
            throw FileOps.posixError("cannot chmod \(target)/\(name)")
        }
        try to.sync()
        try from.sync()
        return target + "/" + name
    }

    /// Marks the ledger records of the certificates of curr, next and prev as retired (certificates sslm
    /// has no record of get none).
    private func markRetired(serviceDirectory: String) throws {
        let records = CertificateLedger.read(topdir: topdir)
        for slot in ["curr", "next", "prev"] {
            let path = serviceDirectory + "/" + slot + "/cert.pem"
            guard let bytes = try? FileBytes.read(path),
                let block = (try? PEMBlock.parseAll(bytes, file: path))?.first(where: { $0.label == "CERTIFICATE" })
            else { continue }
            let sha256 = ContentDigest.sha256Hex(block.derBytes)
            guard let record = records[sha256], record.retired == nil else { continue }
            try CertificateLedger.update(topdir: topdir, certificateSHA256: sha256, start: record) { record in
                var record = record
                record.retired = now
                return record
            }
        }
    }
}
