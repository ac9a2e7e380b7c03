import Foundation
import SSLMCore
import SSLMPKI
import SwiftASN1
import X509

/// What the observer needs that SSLMPKI does not offer: the SubjectPublicKeyInfo of a CSR taken from its
/// DER as read (no re-encoding of the key). PEM, digests and certificate facts use the shared
/// `PEMBlock.parseAll`, `ContentDigest` and `CertificateFacts(_:der:)`.
enum FastFacts {
    /// The SubjectPublicKeyInfo bytes of a DER CSR (CertificationRequestInfo's third field), as read.
    static func requestSPKI(der: [UInt8]) throws -> [UInt8] {
        let root = try DER.parse(der)
        guard case .constructed(let outer) = root.content, let info = outer.first(where: { _ in true }),
            case .constructed(let fields) = info.content
        else { throw SSLMError(.malformedInput, "not a DER certificate request") }
        let parts = Array(fields)
        guard parts.count >= 3 else { throw SSLMError(.malformedInput, "CertificationRequestInfo is too short") }
        return Array(parts[2].encodedBytes)
    }
}
