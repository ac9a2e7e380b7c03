/// What one DANE endpoint of a service presented when probed (before an old key's TLSA records are
/// withdrawn): the endpoint (`mail.example.com:25`, from a TLSA owner), where it was reached, and the
/// SHA-256 of the leaf's SubjectPublicKeyInfo — or why it could not be probed.
public struct DANEEndpointProbe: Sendable, Hashable, Codable {
    /// `group/service`.
    public var service: String
    /// `host:port` of the TLSA owner.
    public var endpoint: String
    /// The address and port connected to.
    public var connect: String?
    /// SHA-256 (hex) of the presented leaf's SPKI; nil when unreachable.
    public var spkiSHA256: String?
    public var failure: String?

    public init(service: String, endpoint: String, connect: String?, spkiSHA256: String?, failure: String?) {
        self.service = service
        self.endpoint = endpoint
        self.connect = connect
        self.spkiSHA256 = spkiSHA256
        self.failure = failure
    }

    /// `mail.example.com:25 (127.0.0.1:2525)`.
    public var sentence: String { endpoint + (connect.map { $0 == endpoint ? "" : " (\($0))" } ?? "") }
}
