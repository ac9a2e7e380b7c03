import SSLMCore
import X509

/// Whether a private key file belongs to a certificate file: the check behind "a key that does not match
/// the certificate" in observation and `sslm verify`. Compares public keys, never prints key material.
public enum KeyCertificateMatch {
    /// True when the key in `keyPath` is the key of the first certificate in `certificatePath`.
    public static func matches(keyPath: String, certificatePath: String) throws -> Bool {
        let key = try KeyPair.read(path: keyPath)
        guard let certificate = try CertificatePEM.read(path: certificatePath).first else {
            throw SSLMError(.malformedInput, "\(certificatePath): no certificate")
        }
        return key.matches(certificate.publicKey)
    }

    /// Throws `SSLMError(.keyMismatch)` naming both files when they do not match.
    public static func require(keyPath: String, certificatePath: String) throws {
        guard try matches(keyPath: keyPath, certificatePath: certificatePath) else {
            throw SSLMError(
                .keyMismatch, "\(keyPath): the private key does not match the certificate in \(certificatePath)")
        }
    }
}
