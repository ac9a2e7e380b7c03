import Foundation
import Logging
import SSLMACME
import SSLMConfig
import SSLMCore
import SSLMObserve
import SSLMPKI
import X509

/// `sslm revoke group:service`: revokes the service's `curr` certificate at the ACME CA that issued it,
/// with the account sslm uses for that CA (created if needed), and records the revocation in the certificate
/// ledger (`.sslm/certificates.json`): the next plan replaces a revoked curr (reason `certificate_revoked`).
public enum Revocation {
    /// RFC 5280 CRLReason codes accepted by ACME (RFC 8555 §7.6).
    public static let reasons: [String: Int] = [
        "unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5,
    ]

    /// Revokes; returns a sentence for the user. `slot` is `curr` (default) or `next`.
    public static func revoke(
        config: Config, address: ServiceAddress, reason: String, slot: String = "curr", logger: Logger,
        directoryOverride: String? = nil, now: Date = Date()
    ) async throws -> String {
        guard let code = reasons[reason] else {
            throw SSLMError(
                .invalidArgument,
                "--reason: \"\(SafeName.printable(reason))\" is not one of \(reasons.keys.sorted().joined(separator: ", "))"
            )
        }
        guard let service = config.service(address) else {
            throw SSLMError(.invalidArgument, "\(address) is not a configured service")
        }
        guard case .authority(let name) = service.signer, let authority = config.certificateAuthorities[name],
            let settings = authority.acme
        else {
            throw SSLMError(
                .invalidArgument,
                "\(address) is signed by \(service.signer), not by an ACME CA: nothing to revoke there")
        }
        let path = "\(config.topdir)/certs/\(address.group)/\(address.service)/\(slot)/cert.pem"
        guard
            let block = try PEMBlock.parseAll(try FileBytes.read(path), file: path).first(where: {
                $0.label == "CERTIFICATE"
            })
        else { throw SSLMError(.malformedInput, "\(path) holds no certificate") }
        let certificate = try Certificate(derEncoded: block.derBytes)
        try await revoke(
            der: block.derBytes, at: authority, settings: settings,
            directoryURL: directoryOverride ?? settings.directoryURL, email: service.subject.email,
            reason: (reason, code), config: config, logger: logger, now: now)
        return
            "revoked \(address) \(slot) (serial \(Hex.colonSeparated(certificate.serialNumber.bytes))) at \(name), reason \(reason)"
    }

    /// Revokes the certificate of `certificatePath` (a retired service's curr, which the config no longer
    /// describes) at the ACME CA its ledger record names, with the account that ordered it (its contact is
    /// read from the account's `account.json`), reason `cessationOfOperation`; records the revocation.
    /// Already revoked (by the ledger): nothing is sent. Throws, naming the certificate, when the ledger has
    /// no ACME record of it or its CA is no longer an ACME CA of `ca-info.conf`.
    public static func revokeRetired(certificatePath path: String, config: Config, logger: Logger, now: Date)
        async throws -> String
    {
        guard
            let block = try PEMBlock.parseAll(try FileBytes.read(path), file: path).first(where: {
                $0.label == "CERTIFICATE"
            })
        else { throw SSLMError(.malformedInput, "\(path) holds no certificate") }
        let sha256 = ContentDigest.sha256Hex(block.derBytes)
        let record = CertificateLedger.read(topdir: config.topdir)[sha256]
        if let revoked = record?.revoked {
            return "already revoked (\(Timestamps.rfc3339(revoked.at)), \(revoked.reason))"
        }
        guard let record, let directory = record.directory, let authority = config.certificateAuthorities[record.ca],
            let settings = authority.acme
        else {
            throw SSLMError(
                .invalidArgument,
                "\(path): .sslm/certificates.json names no ACME CA of ca-info.conf that issued it: cannot revoke")
        }
        let accounts = try StateDirectory.ensure(topdir: config.topdir) + "/acme/accounts"
        let email = accountContact(accounts: accounts, directory: directory, url: record.account) ?? ""
        let name = "cessationOfOperation"
        let serial = Hex.colonSeparated(try Certificate(derEncoded: block.derBytes).serialNumber.bytes)
        do {
            try await revoke(
                der: block.derBytes, at: authority, settings: settings, directoryURL: directory, email: email,
                reason: (name, reasons[name] ?? 5), config: config, logger: logger, now: now)
        } catch let error as ACMEError where error.acmeErrorName == "alreadyRevoked" {
            // Revoked before, not through sslm: the retirement goes on, and the ledger now knows.
            try CertificateLedger.update(topdir: config.topdir, certificateSHA256: sha256, start: record) { record in
                var record = record
                record.revoked = CertificateRecord.Revocation(at: now, reason: "alreadyRevoked")
                return record
            }
            return "already revoked at \(record.ca) (serial \(serial))"
        }
        return "revoked (serial \(serial)) at \(record.ca), reason \(name)"
    }

    /// The contact email of the account `url` (or, without one, of the first account) of `directory`.
    static func accountContact(accounts: String, directory: String, url: String?) -> String? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: accounts)) ?? []).sorted()
        let records = names.compactMap { name -> ACMEAccountStore.Record? in
            let file = accounts + "/" + name + "/account.json"
            guard let bytes = try? BoundedFile.read(file, limit: .state, followLinks: false) else { return nil }
            return try? JSONDecoder().decode(ACMEAccountStore.Record.self, from: Data(bytes))
        }.filter { $0.directory == directory }
        return (records.first { $0.url == url } ?? (url == nil ? records.first : nil))?.contact
    }

    /// Sends the revocation with sslm's account for (`directoryURL`, `email`) and records it in the ledger.
    private static func revoke(
        der: [UInt8], at authority: CertificateAuthority, settings: ACMESettings, directoryURL: String,
        email: String, reason: (name: String, code: Int), config: Config, logger: Logger, now: Date
    ) async throws {
        let state = ACMERunState()
        let accounts = try StateDirectory.ensure(topdir: config.topdir) + "/acme/accounts"
        let client = try await state.client(
            directoryURL: directoryURL, authority: authority, settings: settings, email: email,
            accountsDirectory: accounts, logger: logger, limits: ACMELimits())
        try await client.revoke(certificateDER: der, reason: reason.code)
        try CertificateLedger.update(
            topdir: config.topdir, certificateSHA256: ContentDigest.sha256Hex(der),
            start: CertificateRecord(ca: authority.name)
        ) { record in
            var record = record
            record.revoked = CertificateRecord.Revocation(at: now, reason: reason.name)
            return record
        }
    }
}
