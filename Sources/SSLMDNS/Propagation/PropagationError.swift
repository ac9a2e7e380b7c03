/// Why a propagation check did not pass. `message` names the server(s), the zone and what was seen, e.g.
/// `ns2.example.com (127.0.0.1:5054) still serves serial 2026112901 for example.com; the primary 127.0.0.1:5053
/// has 2026112903 (waited 120 s)`. Equality is by `kind`.
public struct PropagationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What failed; callers branch on this, never on the message.
    public enum Kind: String, Sendable, Hashable {
        /// The primary gave no usable answer (down, refusing, not authoritative).
        case primaryUnreachable
        /// The primary answers but does not serve an expected TXT value.
        case primaryMissingTXT
        /// Some name servers stayed behind the primary's serial (or did not answer) until the timeout.
        case nameserversLagging
        /// The NS records or their addresses could not be found at the primary.
        case discoveryFailed
        /// The target itself is unusable (no primary, a host name instead of an address).
        case badTarget
    }

    public var kind: Kind
    public var message: String
    /// The servers still behind (`AuthoritativeServer.description`), for `.nameserversLagging`.
    public var laggingServers: [String]

    public init(_ kind: Kind, _ message: String, laggingServers: [String] = []) {
        self.kind = kind
        self.message = message
        self.laggingServers = laggingServers
    }

    public var description: String { message }

    public static func == (lhs: PropagationError, rhs: PropagationError) -> Bool { lhs.kind == rhs.kind }
}
