import SSLMCore

/// One resource record sslm adds to a zone, or deletes from it by value, through DNS UPDATE (RFC 2136).
///
/// Only TXT (ACME challenges) and TLSA (DANE) records: the kinds sslm manages. A deletion removes exactly
/// this record (owner, type and rdata; RFC 2136 §2.5.4, class NONE), never the RRset: records at the same
/// owner that sslm did not add stay. The TTL only matters for additions.
public struct DNSUpdateRecord: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// What the record holds.
    public enum Content: Sendable, Hashable {
        /// A TXT value (UTF-8), sent as character strings of at most 255 bytes each.
        case txt(String)
        case tlsa(DNSTLSARecord)
    }

    /// The owner name: lowercase, without the trailing dot (`_acme-challenge.www.example.com`).
    public var owner: String
    public var ttl: UInt32
    public var content: Content

    public init(owner: String, ttl: UInt32, content: Content) {
        var name = owner.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        self.owner = name
        self.ttl = ttl
        self.content = content
    }

    /// A TXT record, e.g. an ACME challenge value at `_acme-challenge.<name>`.
    public static func txt(_ owner: String, _ value: String, ttl: UInt32 = 60) -> DNSUpdateRecord {
        DNSUpdateRecord(owner: owner, ttl: ttl, content: .txt(value))
    }

    /// A TLSA record, e.g. at `_25._tcp.mail.example.com`.
    public static func tlsa(_ owner: String, _ record: DNSTLSARecord, ttl: UInt32 = 300) -> DNSUpdateRecord {
        DNSUpdateRecord(owner: owner, ttl: ttl, content: .tlsa(record))
    }

    /// `TXT` or `TLSA`.
    public var typeName: String {
        switch content {
        case .txt: "TXT"
        case .tlsa: "TLSA"
        }
    }

    /// The rdata as in a zone file: `"value"` (quotes and backslashes escaped) or `3 1 1 hex`.
    public var rdataText: String {
        switch content {
        case .txt(let value):
            var escaped = ""
            for scalar in value.unicodeScalars {
                if scalar == "\"" || scalar == "\\" {
                    escaped += "\\" + String(scalar)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    escaped += "\\" + String(format3(scalar.value))
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
            return "\"\(escaped)\""
        case .tlsa(let record): return record.description
        }
    }

    /// `_acme-challenge.example.com. 60 TXT "value"`: the record as in a zone file.
    public var description: String { "\(owner). \(ttl) \(typeName) \(rdataText)" }

    /// Owner, then type, then rdata: the order records go into a message.
    public static func < (lhs: DNSUpdateRecord, rhs: DNSUpdateRecord) -> Bool {
        (lhs.owner, lhs.typeName, lhs.rdataText, lhs.ttl) < (rhs.owner, rhs.typeName, rhs.rdataText, rhs.ttl)
    }

    /// Whether two records are the same RR for a deletion (the TTL does not count).
    func sameRR(_ other: DNSUpdateRecord) -> Bool { owner == other.owner && content == other.content }
}

private func format3(_ value: UInt32) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}

/// The changes sslm makes to one zone in one go: deletions by value, then additions, sent as one UPDATE
/// message (several only when one would exceed the client's safe size).
///
/// A record both deleted and added ends up present (deletions are applied first). Repeated records are
/// sent once. Every owner must be the zone or inside it.
public struct DNSZoneChange: Sendable, Hashable, CustomStringConvertible {
    /// The zone apex: lowercase, without the trailing dot.
    public var zone: String
    public var deletions: [DNSUpdateRecord]
    public var additions: [DNSUpdateRecord]

    public init(zone: String, deletions: [DNSUpdateRecord] = [], additions: [DNSUpdateRecord] = []) {
        var name = zone.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        self.zone = name
        self.deletions = deletions
        self.additions = additions
    }

    /// True when there is nothing to send.
    public var isEmpty: Bool { deletions.isEmpty && additions.isEmpty }

    /// `example.com: delete 1, add 2`.
    public var description: String { "\(zone): delete \(deletions.count), add \(additions.count)" }
}

extension DNSUpdateRecord {
    /// The TXT record of a dns-01 challenge: `_acme-challenge.<name>` (a wildcard's at its base name) holding
    /// the key authorization digest. ACME challenge records are short-lived: 60 s by default, as in
    /// `ACMEChallengeZoneFile`.
    public init(challenge: ACMEChallengeRecord, ttl: UInt32 = 60) {
        self.init(owner: challenge.ownerName, ttl: ttl, content: .txt(challenge.value))
    }

    /// The TLSA record of a DANE record as sslm computes it (`rdata` `usage selector matching hex`), or nil
    /// when `rdata` is not of that form. `defaultTTL` applies when the record has none.
    public init?(dane: DANERecord, defaultTTL: UInt32 = 300) {
        let fields = dane.rdata.split(separator: " ")
        guard fields.count == 4, let usage = Int(fields[0]), let selector = Int(fields[1]),
            let matching = Int(fields[2]), [usage, selector, matching].allSatisfy({ (0...255).contains($0) }),
            fields[3].count % 2 == 0, fields[3].allSatisfy(\.isHexDigit)
        else { return nil }
        let ttl = dane.ttl.flatMap { UInt32(exactly: $0) } ?? defaultTTL
        self.init(
            owner: dane.owner, ttl: ttl,
            content: .tlsa(
                DNSTLSARecord(usage: usage, selector: selector, matchingType: matching, dataHex: String(fields[3]))))
    }
}
