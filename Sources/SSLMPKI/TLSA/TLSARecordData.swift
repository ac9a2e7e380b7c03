import Crypto
import SSLMCore
import X509

/// The certificate association data of a TLSA record (RFC 6698 §2.1): the selected part of the
/// certificate, hashed as the matching type says.
///
/// Selector 0 is the whole DER certificate, 1 the DER SubjectPublicKeyInfo (algorithm + key, what
/// `openssl x509 -pubkey | openssl pkey -pubin -outform DER` prints — not just the key bits).
/// Matching type 0 is the data itself, 1 SHA-256, 2 SHA-512. Anything else is `.invalidArgument`.
public enum TLSARecordData {
    public static func data(for certificate: Certificate, selector: Int, matchingType: Int) throws -> [UInt8] {
        let selected: [UInt8]
        switch selector {
        case 0: selected = try CertificatePEM.der(certificate)
        case 1: selected = try certificate.publicKey.spkiDER()
        default: throw SSLMError(.invalidArgument, "TLSA selector \(selector) is not 0 (certificate) or 1 (SPKI)")
        }
        switch matchingType {
        case 0: return selected
        case 1: return Array(SHA256.hash(data: selected))
        case 2: return Array(SHA512.hash(data: selected))
        default:
            throw SSLMError(
                .invalidArgument, "TLSA matching type \(matchingType) is not 0 (exact), 1 (SHA-256) or 2 (SHA-512)")
        }
    }

    /// Lowercase hex of `data(for:selector:matchingType:)`.
    public static func hex(for certificate: Certificate, selector: Int, matchingType: Int) throws -> String {
        Hex.encode(try data(for: certificate, selector: selector, matchingType: matchingType))
    }

    /// SHA-256 of arbitrary bytes (for callers that hash embedded DER themselves).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}
