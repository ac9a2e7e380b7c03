/// One TLSA resource record as sslm writes it into `tlsa.rr` and `tlsa.<apex>` (ssl-mgr 7.x form).
///
/// `zoneText`: `<owner> <ttl>  IN TLSA <u> <s> <m> <hex>` — TTL then two spaces, as ssl-mgr ≥ 7.4 writes,
/// kept so that existing files compare equal; without a TTL, two spaces between owner and `IN`. Data of
/// 72 hex characters or more is split as `( u s m` + newline + 20-space-indented 72-character chunks + ` )`.
public struct TLSARecord: Sendable, Hashable {
    /// Absolute owner name with trailing dot, e.g. `_25._tcp.mx.example.com.`.
    public var owner: String
    /// TTL in seconds; nil writes no TTL field.
    public var ttl: Int?
    public var usage: Int
    public var selector: Int
    public var matchingType: Int
    /// Lowercase hex of the association data.
    public var dataHex: String

    public init(owner: String, ttl: Int?, usage: Int, selector: Int, matchingType: Int, dataHex: String) {
        self.owner = owner
        self.ttl = ttl
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.dataHex = dataHex
    }

    /// The record's rdata as it appears after `TLSA`.
    public var rdataText: String {
        let fields = "\(usage) \(selector) \(matchingType)"
        guard dataHex.count >= 72 else { return fields + " " + dataHex }
        var chunks: [String] = []
        var index = dataHex.startIndex
        while index < dataHex.endIndex {
            let end = dataHex.index(index, offsetBy: 72, limitedBy: dataHex.endIndex) ?? dataHex.endIndex
            chunks.append(String(repeating: " ", count: 20) + dataHex[index..<end])
            index = end
        }
        return "( " + fields + "\n" + chunks.joined(separator: "\n") + " )"
    }

    /// The zone-file text (no final newline; may span several lines).
    public var zoneText: String {
        let middle = ttl.map { " \($0)  " } ?? "  "
        return owner + middle + "IN TLSA " + rdataText
    }
}
