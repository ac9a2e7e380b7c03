import SSLMCore

/// Why a DNS query gave no answer to use. A lookup that got a real answer — including NXDOMAIN or an
/// empty answer section — is not an error.
///
/// `kind` is what callers switch on; `message` says what happened (server, name, cause) in one line.
public struct DNSLookupError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// No answer: timeout, unreachable, connection refused.
        case network
        /// The server answered with an error rcode (SERVFAIL, REFUSED, NOTIMP, FORMERR, …).
        case serverError
        /// The server is not usable as given (a host name instead of an address, a bad port).
        case badServer
        /// The name to query is not a valid domain name.
        case badName
        /// libldns failed otherwise (memory, an unexpected status).
        case library
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
