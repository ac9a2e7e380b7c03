import SSLMCore

/// How a local signer issues certificates: validity in days and signature digest, from the signer's
/// `[CA]` section (`sign_end_days`, `digest`) — the root's own section for a self-signed root.
///
/// Guarantees `validityDays` within `ConfigLimits.signEndDays` (1 … 36 500): the not-after date stays
/// far below the year 9999, the last one X.509 can encode. A signer without a `[CA]` section is a
/// configuration error (`fromCASection`), never a silent 1-day certificate as in ssl-mgr.
public struct SigningPolicy: Sendable, Hashable, Codable {
    public let validityDays: Int
    public let digest: DigestAlgorithm

    /// Throws `SSLMError(.invalidArgument)` when `validityDays` is outside `ConfigLimits.signEndDays`.
    public init(validityDays: Int, digest: DigestAlgorithm = .default) throws {
        guard validityDays >= 1 else {
            throw SSLMError(.invalidArgument, "sign_end_days must be at least 1 (got \(validityDays))")
        }
        guard validityDays <= ConfigLimits.signEndDays.upperBound else {
            throw SSLMError(
                .invalidArgument,
                "sign_end_days must be at most \(ConfigLimits.signEndDays.upperBound) (got \(validityDays))")
        }
        self.validityDays = validityDays
        self.digest = digest
    }

    /// The policy of a signer from its `[CA]` values. `signEndDays == nil` means the `[CA]` section or its
    /// `sign_end_days` is missing: `SSLMError(.configInvalid)` naming `signerFile`. A nil digest is SHA-384.
    public static func fromCASection(signEndDays: Int?, digest: DigestAlgorithm?, signerFile: String) throws
        -> SigningPolicy
    {
        guard let signEndDays else {
            throw SSLMError(
                .configInvalid,
                "\(signerFile): [CA] sign_end_days is missing: a signing service needs a [CA] section with "
                    + "sign_end_days (validity in days) and optionally digest")
        }
        do {
            return try SigningPolicy(validityDays: signEndDays, digest: digest ?? .default)
        } catch let error as SSLMError {
            throw SSLMError(.configInvalid, "\(signerFile): [CA] \(error.message)")
        }
    }
}
