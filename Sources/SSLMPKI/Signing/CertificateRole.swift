/// What a certificate is for, which decides its BasicConstraints, KeyUsage and ExtendedKeyUsage.
///
/// `.certificateAuthority`: BasicConstraints CA:TRUE (critical, no path length), KeyUsage
/// keyCertSign + cRLSign + digitalSignature (critical), no EKU.
/// `.leaf`: BasicConstraints CA:FALSE (critical), KeyUsage digitalSignature plus keyEncipherment for RSA
/// or keyAgreement for EC keys (RFC 5480 forbids keyEncipherment on EC keys), EKU as ssl-mgr
/// (serverAuth, clientAuth, emailProtection, codeSigning, timeStamping).
/// ssl-mgr decides the role from the group name (`ca` → CA); the caller maps config to this value.
public enum CertificateRole: String, Sendable, Hashable, Codable {
    case certificateAuthority = "ca"
    case leaf
}
