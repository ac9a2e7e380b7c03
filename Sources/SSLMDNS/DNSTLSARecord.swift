/// The rdata of one TLSA record as a name server serves it (RFC 6698): what DANE checks compare with the
/// records sslm generates. Not an owner or TTL: those are the query's. Named apart from SSLMPKI's
/// `TLSARecordData` (hashing helpers) so modules importing both stay unambiguous.
public struct DNSTLSARecord: Sendable, Hashable, CustomStringConvertible {
    public var usage: Int
    public var selector: Int
    public var matchingType: Int
    /// Lowercase hex of the certificate association data.
    public var dataHex: String

    public init(usage: Int, selector: Int, matchingType: Int, dataHex: String) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.dataHex = dataHex.lowercased()
    }

    /// `usage selector matching hex`, as in a zone file.
    public var description: String { "\(usage) \(selector) \(matchingType) \(dataHex)" }
}
