/// One `dane_tls` entry of a service file: `[port, proto, usage, selector, match_type]` plus the
/// optional subtype (`'MX'` or `'SANS'`) that chooses the TLSA owner names.
public struct DANESpec: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which host names get TLSA records besides the apex.
    public enum HostSet: String, Sendable, Hashable, Codable {
        /// The apex's MX hosts (from DNS).
        case mx = "MX"
        /// The certificate's subject alternative names.
        case sans = "SANS"
    }

    public var port: Int
    /// Transport protocol label, lowercase (`tcp`, `udp`, `sctp`).
    public var proto: String
    /// TLSA certificate usage 0–3 (PKIX-TA, PKIX-EE, DANE-TA, DANE-EE).
    public var usage: Int
    /// TLSA selector: 0 full certificate, 1 SubjectPublicKeyInfo.
    public var selector: Int
    /// TLSA matching type: 0 exact, 1 SHA-256, 2 SHA-512.
    public var matchingType: Int
    /// The subtype as written in the config, nil when omitted.
    public var subtype: HostSet?

    public init(port: Int, proto: String, usage: Int, selector: Int, matchingType: Int, subtype: HostSet? = nil) {
        self.port = port
        self.proto = proto
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.subtype = subtype
    }

    /// The owner-name set actually used: an explicit subtype wins (ssl-mgr lets port 25 override
    /// `SANS`; sslm does not); without one, port 25 means MX hosts and any other port the SANs.
    public var hostSet: HostSet {
        if let subtype { return subtype }
        return port == 25 ? .mx : .sans
    }

    /// `25 tcp 3 1 1 MX`.
    public var description: String {
        "\(port) \(proto) \(usage) \(selector) \(matchingType)" + (subtype.map { " \($0.rawValue)" } ?? "")
    }
}
