import Crypto
import Foundation
import SSLMCore
import SSLMPKI
import X509

/// What a server presented, compared with sslm's `curr` and `next`: shared by the DANE and the TLS endpoint
/// checks of `sslm check`, so both describe a served certificate and a wrong one in the same words.
enum ServedLeaf {
    /// The served leaf (subject, serial, expiry, SHA-256, chain length) and its slot: `curr`, `next` or `other`.
    static func describe(chain: [Certificate], curr: Certificate, next: Certificate?)
        -> DANECheckReport.ServedCertificate?
    {
        guard let leaf = chain.first else { return nil }
        let leafDER = (try? CertificatePEM.der(leaf)) ?? []
        let currDER = (try? CertificatePEM.der(curr)) ?? []
        let nextDER = next.flatMap { try? CertificatePEM.der($0) }
        let slot = leafDER == currDER ? "curr" : (nextDER == leafDER ? "next" : "other")
        let facts = try? CertificateFacts(leaf)
        return .init(
            subject: facts?.subject ?? "?", serial: facts?.serialHex ?? "?",
            notAfter: facts.map { Timestamps.rfc3339($0.notAfter) } ?? "?",
            sha256: Hex.encode(Array(SHA256.hash(data: leafDER))), chainLength: chain.count, slot: slot)
    }

    /// Why serving `served` is wrong (next before the roll, or an old or foreign certificate); nil for curr.
    /// `place` is `host port N`, `target` where sslm connected.
    static func problem(
        _ served: DANECheckReport.ServedCertificate, curr: Certificate, place: String, target: NameserverAddress
    ) -> String? {
        let currText =
            (try? CertificateFacts(curr)).map {
                "sslm's curr is serial \($0.serialHex), expires \(Timestamps.rfc3339($0.notAfter))"
            } ?? ""
        let servedText = "serial \(served.serial), expires \(served.notAfter)"
        switch served.slot {
        case "curr": return nil
        case "next": return "\(place) (\(target)) serves sslm's next, not curr (\(servedText)); \(currText)"
        default:
            return "\(place) (\(target)) serves a certificate that is not sslm's curr (\(servedText), "
                + "\(served.subject)): an old or foreign certificate; \(currText). "
                + "Reload the server, or check its certificate path"
        }
    }
}
