/// One dns-01 challenge to publish: the identifier as requested and its key authorization digest.
///
/// `domain` may be a wildcard (`*.example.com`): its TXT record lives at `_acme-challenge.example.com`, the
/// same owner as the base name's. `value` is published and compared verbatim. When `_acme-challenge.<domain>`
/// is a CNAME (validation delegated to another zone), `delegatedOwner` is its target, where the TXT goes.
public struct ACMEChallengeRecord: Sendable, Hashable {
    public var domain: String
    public var value: String
    /// The CNAME target of `_acme-challenge.<domain>` (lowercase, no trailing dot), when delegated.
    public var delegatedOwner: String?

    public init(domain: String, value: String, delegatedOwner: String? = nil) {
        self.domain = domain
        self.value = value
        self.delegatedOwner = delegatedOwner
    }

    /// `_acme-challenge.<domain>` without the trailing dot, a leading `*.` removed, lowercase: where the CA
    /// looks first.
    public var challengeName: String {
        var name = domain.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        if name.hasPrefix("*.") { name.removeFirst(2) }
        return "_acme-challenge." + name
    }

    /// The TXT owner without the trailing dot: `delegatedOwner`, else `challengeName`.
    public var ownerName: String {
        if let delegatedOwner { return delegatedOwner }
        return challengeName
    }
}
