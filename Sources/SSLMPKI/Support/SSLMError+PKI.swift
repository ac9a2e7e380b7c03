import SSLMCore

extension SSLMError.Code {
    /// A private key does not belong to the certificate or request it is used with.
    public static let keyMismatch = SSLMError.Code(rawValue: "key_mismatch")
}
