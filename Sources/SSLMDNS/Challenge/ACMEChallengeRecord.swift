/// One dns-01 challenge to publish: the identifier as requested and its key authorization digest.
///
/// `domain` may be a wildcard (`*.example.com`): its TXT record lives at `_acme-challenge.example.com`, the
/// same owner as the base name's. `value` is published and compared verbatim.
public struct ACMEChallengeRecord: Sendable, Hashable {
    public var domain: String
    public var value: String

    public init(domain: String, value: String) {
        self.domain = domain
        self.value = value
    }

    /// The TXT owner without the trailing dot: `_acme-challenge.<domain>`, a leading `*.` removed, lowercase.
    public var ownerName: String {
        var name = domain.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        if name.hasPrefix("*.") { name.removeFirst(2) }
        return "_acme-challenge." + name
    }
}
