import Foundation
import SSLMCore
import SSLMPKI

/// `<topdir>/.sslm/certificates.json`: the `CertificateRecord` of every certificate sslm issued or revoked,
/// by the SHA-256 of its DER, `{"<sha256 hex>": {"ca": …, "directory": …, "account": …, …}}`.
///
/// Written by `finalize_order` (issuance), `acme_order` (a refused `replaces`) and `sslm revoke`, each
/// under the writer lock, through `update`, which reads, changes and writes the file atomically and is
/// serialised within the process (ACME actions of one run finalize concurrently). A missing or unreadable
/// file counts as empty: the ledger only adds knowledge, sslm works without it. Read by the observer for
/// the certificates it sees (`Observation.certificateRecords`).
public enum CertificateLedger {
    /// `<topdir>/.sslm/certificates.json`.
    public static func path(topdir: String) -> String { topdir + "/.sslm/certificates.json" }

    private static let lock = NSLock()

    /// The records as stored.
    public static func read(topdir: String) -> [String: CertificateRecord] {
        guard case .success(let bytes) = PosixFiles.read(path(topdir: topdir), limit: .state, followLinks: false)
        else { return [:] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return (try? decoder.decode([String: CertificateRecord].self, from: Data(bytes))) ?? [:]
    }

    /// Changes the record of `certificateSHA256` (a new one starts from `start`) and writes the ledger.
    /// `body` returns nil to remove the record.
    public static func update(
        topdir: String, certificateSHA256: String, start: CertificateRecord,
        _ body: (CertificateRecord) -> CertificateRecord?
    ) throws {
        lock.lock()
        defer { lock.unlock() }
        var records = read(topdir: topdir)
        records[certificateSHA256] = body(records[certificateSHA256] ?? start)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(records)
        _ = try ConfinedDirectory.open(topdir + "/.sslm", below: topdir, createMode: 0o700)
        try AtomicFile.write(Array(data) + [10], to: path(topdir: topdir), mode: 0o600, root: topdir)
    }

    /// The records of `certificates` (SHA-256 hex of each DER) only; nil when none has one.
    public static func records(topdir: String, for certificates: Set<String>) -> [String: CertificateRecord]? {
        guard !certificates.isEmpty else { return nil }
        let found = read(topdir: topdir).filter { certificates.contains($0.key) }
        return found.isEmpty ? nil : found
    }
}
