import SSLMConfig
import SSLMCore

/// A service's signer as this run sees it. For a local CA: its current subject and fullchain digest
/// (unknown while the CA rolls in this run), the id of that roll, and why the service cannot be signed
/// now. Empty for self-signed services and CAs that are not local (ACME).
struct SignerFacts {
    /// The CA named by `signer`, when the service is not self-signed.
    var caName: String?
    /// The local CA's current certificate subject.
    var subject: String?
    /// The digest of the local CA's current `fullchain.pem`.
    var fullchain: String?
    /// The id of the local CA's `roll` in this run.
    var caRollId: String?
    /// Why the local CA cannot sign now (no usable current certificate).
    var blocked: String?

    var caRollsNow: Bool { caRollId != nil }

    static func resolve(_ service: ServiceConfig, context: PlanningContext, earlier: EarlierDecisions) -> SignerFacts {
        guard case .authority(let name) = service.signer else { return SignerFacts() }
        var facts = SignerFacts(caName: name)
        guard let ca = context.config.certificateAuthorities[name], ca.isLocal else { return facts }
        facts.caRollId = earlier.caRolls[name]
        guard facts.caRollId == nil else { return facts }
        let caState = context.observation.service(ca.localAddress)
        let caCurr = caState.flatMap { $0.dbDir($0.curr) }
        facts.subject = caCurr?.certificate?.subject
        facts.fullchain = caCurr?.files["fullchain.pem"]
        if caCurr?.certificate == nil || caCurr?.key == nil {
            facts.blocked =
                "signing CA \"\(name)\" (ca/\(name)) has no usable current certificate"
                + (earlier.decided.contains(ca.localAddress) ? " yet" : " and is not part of this run")
        }
        return facts
    }

    /// Where a damaged chain of curr can be rebuilt from, for the sentence: the certificate itself when
    /// self-signed, a local CA's current fullchain.pem when that CA issued curr and does not roll now.
    func chainSource(for service: ServiceConfig, curr: DBDirState?) -> String? {
        switch service.signer {
        case .selfSigned: return "cert.pem itself (self-signed)"
        case .authority(let name):
            guard caRollId == nil, fullchain != nil, let issuer = curr?.certificate?.issuer, issuer == subject
            else { return nil }
            return "CA \"\(name)\"'s current fullchain.pem"
        }
    }
}
