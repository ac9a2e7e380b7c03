/// The outcome of one named check of `ChainVerifier`: met, or failed with a sentence saying why.
/// A failed check is a value, not an exception.
public struct ChainCheck: Sendable, Hashable, CustomStringConvertible {
    /// The condition checked, e.g. `leafIssuedByFirstChainCertificate`.
    public var name: String
    /// Nil when the check passed.
    public var failure: String?

    public init(name: String, failure: String? = nil) {
        self.name = name
        self.failure = failure
    }

    public var passed: Bool { failure == nil }

    public var description: String { failure.map { "\(name): failed: \($0)" } ?? "\(name): ok" }
}
