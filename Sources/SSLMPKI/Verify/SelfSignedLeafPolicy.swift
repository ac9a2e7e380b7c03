import Foundation
import SwiftASN1
import X509

/// The policy for a self-signed leaf (`signing_ca = self`), which is its own trust anchor: it must be
/// valid at the validation time and, if it has a KeyUsage, allow digital signatures. It enforces the
/// BasicConstraints, KeyUsage and ExtendedKeyUsage extensions sslm writes as critical, so the verifier
/// accepts them. Not for chains: RFC5280Policy handles those.
struct SelfSignedLeafPolicy: VerifierPolicy {
    let validationTime: Date

    var verifyingCriticalExtensions: [ASN1ObjectIdentifier] {
        [.X509ExtensionID.basicConstraints, .X509ExtensionID.keyUsage, .X509ExtensionID.extendedKeyUsage]
    }

    mutating func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        let leaf = chain.leaf
        guard chain.count == 1 || (chain.count == 2 && chain[1] == leaf) else {
            return .failsToMeetPolicy(reason: "a self-signed certificate must be its own anchor")
        }
        if validationTime < leaf.notValidBefore || validationTime > leaf.notValidAfter {
            return .failsToMeetPolicy(reason: "the certificate is not valid at the validation time")
        }
        if let usage = try? leaf.extensions.keyUsage, !usage.digitalSignature {
            return .failsToMeetPolicy(reason: "the key usage does not allow digital signatures")
        }
        return .meetsPolicy
    }
}
