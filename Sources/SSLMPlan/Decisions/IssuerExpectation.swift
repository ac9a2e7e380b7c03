import Foundation
import SSLMConfig
import SSLMCore

/// Who is to issue a service's certificates now (its `signing_ca`, or itself), and who issued a given
/// certificate as far as sslm can tell: the `CertificateRecord` sslm kept when it issued it (CA and ACME
/// directory), else the certificate itself — self-signed, or issued by the current certificate of a
/// configured local CA. A certificate sslm did not issue and whose issuer DN is no local CA's (adopted
/// from ssl-mgr or certbot) has no known issuer: it is taken to be the configured CA's.
struct IssuerExpectation {
    /// Who issued (or is to issue) a certificate.
    enum Issuer: Equatable {
        case selfSigned
        /// A local CA, by name; `subject` is its certificate's subject when known.
        case local(name: String, subject: String?)
        /// An ACME CA, by name, with the directory URL orders go to.
        case acme(name: String, directory: String)

        var sentence: String {
            switch self {
            case .selfSigned: "itself (self-signed)"
            case .local(let name, let subject): "local CA \"\(name)\"" + (subject.map { " (\($0))" } ?? "")
            case .acme(let name, let directory): "ACME CA \"\(name)\" (\(directory))"
            }
        }
    }

    /// The issuer the config names now; nil when the CA is not configured (a config error elsewhere).
    var wanted: Issuer?
    var records: [String: CertificateRecord]
    /// Local CAs by the subject of their current certificate.
    var localCAs: [String: String]

    init(_ service: ServiceConfig, signer: SignerFacts, context: PlanningContext) {
        let config = context.config
        self.localCAs = context.localCASubjects
        self.records = context.observation.certificateRecords ?? [:]
        switch service.signer {
        case .selfSigned: wanted = .selfSigned
        case .authority(let name):
            if let acme = config.certificateAuthorities[name]?.acme {
                wanted = .acme(name: name, directory: Self.directory(acme, staging: context.request.acmeStaging))
            } else if config.certificateAuthorities[name] != nil {
                wanted = .local(name: name, subject: signer.caRollsNow ? nil : signer.subject)
            }
        }
    }

    /// The directory URL orders of this run go to: the staging one with `--test`.
    static func directory(_ acme: ACMESettings, staging: Bool) -> String {
        staging ? (acme.stagingDirectoryURL ?? acme.directoryURL) : acme.directoryURL
    }

    /// Who issued `certificate`, when sslm can tell.
    func issuer(of certificate: CertificateFacts) -> Issuer? {
        if let record = records[certificate.certificateSHA256] {
            if let directory = record.directory { return .acme(name: record.ca, directory: directory) }
            return .local(name: record.ca, subject: certificate.issuer)
        }
        if certificate.isSelfSigned { return .selfSigned }
        if let name = localCAs[certificate.issuer] { return .local(name: name, subject: certificate.issuer) }
        return nil
    }

    /// `issuerDiffersFromConfig`: `certificate` (of `slot`) was issued by another CA than the one the
    /// config names now — a switch of `signing_ca` between local CAs, from a local CA to an ACME CA, from
    /// one ACME CA (directory) to another, or back.
    func change(of certificate: CertificateFacts, slot: String) -> Reason? {
        guard let wanted else { return nil }
        let found = issuer(of: certificate)
        let differs: Bool
        switch (wanted, found) {
        case (.selfSigned, _): differs = !certificate.isSelfSigned
        case (.local(_, let subject?), _): differs = certificate.issuer != subject
        case (.local, let found): differs = found == .selfSigned
        case (.acme(_, let directory), .acme(_, let issuedFrom)?): differs = directory != issuedFrom
        case (.acme, .some): differs = true
        case (.acme, nil): differs = false
        }
        guard differs else { return nil }
        let old = found?.sentence ?? certificate.issuer
        return Reason(
            .issuerChanged,
            "\(slot) certificate was issued by \(old); signing_ca is now \(wanted.sentence): a new certificate replaces it now"
        )
    }
}
