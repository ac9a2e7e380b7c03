import SSLMCore
import SwiftASN1

/// The SubjectPublicKeyInfo bytes exactly as they appear inside a DER certificate, cut out of the
/// TBSCertificate without decoding the key. `sslm tlsa-hash` compares them with sslm's own encoding of
/// the decoded key: two independent routes to the same TLSA data.
public enum EmbeddedSPKI {
    public static func bytes(certificateDER: [UInt8]) throws -> [UInt8] {
        do {
            let root = try DER.parse(certificateDER)
            guard case .constructed(let certificateParts) = root.content,
                let tbs = certificateParts.first(where: { _ in true }),
                case .constructed(let tbsParts) = tbs.content
            else { throw SSLMError(.malformedInput, "not a DER certificate") }
            // version [0] (optional), serial, signature, issuer, validity, subject, subjectPublicKeyInfo
            var universal: [ASN1Node] = []
            for node in tbsParts where node.identifier.tagClass == .universal { universal.append(node) }
            guard universal.count >= 6 else { throw SSLMError(.malformedInput, "TBSCertificate is too short") }
            return Array(universal[5].encodedBytes)
        } catch let error as SSLMError {
            throw error
        } catch {
            throw SSLMError(.malformedInput, "cannot parse the certificate DER", underlying: error)
        }
    }
}
