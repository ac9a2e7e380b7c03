/// Why a DNS UPDATE did not (entirely) happen. `message` is one sentence naming the server, the zone and
/// the TSIG key's name (never its secret), what happened and what to do. Equality is by `kind`, so tests
/// can build the expected error.
public struct DNSUpdateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What failed; callers branch on this, never on the message.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// RCODE REFUSED: the server does not let this key change these records (policy, ACL).
        case refused
        /// RCODE NOTAUTH: a TSIG failure (`tsigError` BADSIG, BADKEY, BADTIME) or a zone the server is not
        /// authoritative for.
        case notAuthorized
        /// RCODE NOTZONE: a record is outside the zone the server has.
        case notZone
        /// RCODE SERVFAIL: the server failed to apply the update.
        case serverFailure
        /// Another error RCODE (FORMERR, NOTIMP, YXDOMAIN, …).
        case otherRcode
        /// No answer within the timeout, over UDP and TCP.
        case timeout
        /// Nothing listens at the server's address and port.
        case connectionRefused
        /// Another network failure (unreachable, reset, a malformed answer).
        case network
        /// A NOERROR answer whose TSIG signature is missing or does not verify: not trusted.
        case unverifiedResponse
        /// The change itself is invalid (a record outside the zone, a bad name or value); nothing was sent.
        case badRequest
        /// libldns failed to build or sign the message.
        case library
    }

    public var kind: Kind
    public var message: String
    /// The TSIG error of the answer (`BADSIG`, `BADKEY`, `BADTIME`, `BADTRUNC`), if the server set one.
    public var tsigError: String?
    /// Messages of this change the server had applied before the failure (a change split in several).
    public var messagesApplied: Int

    public init(_ kind: Kind, _ message: String, tsigError: String? = nil, messagesApplied: Int = 0) {
        self.kind = kind
        self.message = message
        self.tsigError = tsigError
        self.messagesApplied = messagesApplied
    }

    public var description: String { message }

    public static func == (lhs: DNSUpdateError, rhs: DNSUpdateError) -> Bool { lhs.kind == rhs.kind }
}

/// What one DNS UPDATE of a zone did: how many messages (one unless the change exceeded the safe size),
/// over which transport, and their sizes. For logs, journals and tests that count messages per zone.
public struct DNSUpdateReport: Sendable, Hashable, CustomStringConvertible {
    public var zone: String
    /// The server as asked (`127.0.0.1:5353`).
    public var server: String
    public var keyName: String
    public var deletions: Int
    public var additions: Int
    /// One entry per message sent and acknowledged, in order.
    public var messages: [Message]

    /// One UPDATE message and how it went.
    public struct Message: Sendable, Hashable {
        public enum Transport: String, Sendable, Hashable, Codable {
            case udp
            case tcp
        }
        /// Size of the signed request on the wire.
        public var bytes: Int
        public var records: Int
        public var transport: Transport
        /// Why TCP was used: `large` (over 512 bytes), `truncated` (the UDP answer had TC), `no UDP answer`.
        public var tcpReason: String?
    }

    /// True when the change went out in more than one message.
    public var split: Bool { messages.count > 1 }

    /// `example.com at 127.0.0.1:5353 (key "k"): delete 1, add 2 in 1 UPDATE message (UDP, 312 bytes)`.
    public var description: String {
        let parts = messages.map { message in
            "\(message.transport.rawValue.uppercased()), \(message.bytes) bytes"
                + (message.tcpReason.map { ": \($0)" } ?? "")
        }
        let count = messages.count == 1 ? "1 UPDATE message" : "\(messages.count) UPDATE messages"
        return "\(zone) at \(server) (key \"\(keyName)\"): delete \(deletions), add \(additions) in \(count) ("
            + parts.joined(separator: "; ") + ")"
            + (split ? "; split because one message would exceed the safe size" : "")
    }
}
