import SSLMCore

/// A name server a propagation check polls: its address and, when it was discovered from NS records, its
/// host name (used in messages: `ns2.example.com (127.0.0.1:5054)`).
public struct AuthoritativeServer: Sendable, Hashable, CustomStringConvertible {
    /// NS host name (lowercase, no trailing dot), or nil for a configured address.
    public var name: String?
    public var address: NameserverAddress

    public init(name: String? = nil, address: NameserverAddress) {
        self.name = name
        self.address = address
    }

    public var description: String {
        guard let name else { return address.description }
        return "\(name) (\(address))"
    }
}
