import Crypto
import SSLMCore
import SwiftASN1
import X509
import _CryptoExtras

extension KeySpec {
    /// The key type of a public key taken from a certificate, CSR or private key; nil for an algorithm
    /// sslm does not handle.
    public init?(publicKey: Certificate.PublicKey) {
        if P256.Signing.PublicKey(publicKey) != nil {
            self = .ec(.secp256r1)
        } else if P384.Signing.PublicKey(publicKey) != nil {
            self = .ec(.secp384r1)
        } else if P521.Signing.PublicKey(publicKey) != nil {
            self = .ec(.secp521r1)
        } else if let rsa = _RSA.Signing.PublicKey(publicKey) {
            self = .rsa(bits: rsa.keySizeInBits)
        } else if Curve25519.Signing.PublicKey(publicKey) != nil {
            self = .ed25519
        } else {
            return nil
        }
    }
}

extension Certificate.PublicKey {
    /// The DER `SubjectPublicKeyInfo` (algorithm + key bits): what TLSA selector 1 and
    /// `openssl pkey -pubin -outform DER` use. Not `subjectPublicKeyInfoBytes`, which is the key bits only.
    public func spkiDER() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(self)
        return serializer.serializedBytes
    }
}
