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
        let directoryURL = directoryOverride ?? settings.directoryURL
        let state = ACMERunState()
        let accounts = try StateDirectory.ensure(topdir: config.topdir) + "/acme/accounts"
        let client = try await state.client(
            directoryURL: directoryURL, authority: authority, settings: settings, email: service.subject.email,
            accountsDirectory: accounts, logger: logger, limits: ACMELimits())
        try await client.revoke(certificateDER: block.derBytes, reason: code)
        try CertificateLedger.update(
            topdir: config.topdir, certificateSHA256: ContentDigest.sha256Hex(block.derBytes),
            start: CertificateRecord(ca: name)
        ) { record in
            var record = record
            record.revoked = CertificateRecord.Revocation(at: now, reason: reason)
            return record
        }
        return
            "revoked \(address) \(slot) (serial \(Hex.colonSeparated(certificate.serialNumber.bytes))) at \(name), reason \(reason)"
    }
}
