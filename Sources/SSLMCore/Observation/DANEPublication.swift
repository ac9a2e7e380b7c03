import Foundation

/// One TLSA record as sslm publishes it: the owner (lowercase, without the trailing dot), its TTL and its
/// rdata in zone-file form (`usage selector matching hex`, lowercase hex).
///
/// `key` (owner + rdata, no TTL) is what a name server's answer is compared with; the TTL is only used for
/// the roll timing (records must have been published for at least 2 × TTL).
public struct DANERecord: Sendable, Hashable, Codable, Comparable {
    public var owner: String
    /// Seconds; nil when the file has no TTL field (the zone's default then applies, unknown to sslm).
    public var ttl: Int?
    public var rdata: String

    public init(owner: String, ttl: Int?, rdata: String) {
        var name = owner.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        self.owner = name
        self.ttl = ttl
        self.rdata = rdata.lowercased()
    }

    /// `owner rdata`: the record's identity as served (what first-seen times are keyed by).
    public var key: String { owner + " " + rdata }

    public static func < (lhs: DANERecord, rhs: DANERecord) -> Bool { lhs.key < rhs.key }
}

/// The records one certificate slot (`curr` or `next`) of one DANE service implies.
public struct DANESlotRecords: Sendable, Hashable, Codable {
    public var service: String
    public var slot: String
    /// Sorted by key.
    public var records: [DANERecord]

    public init(service: String, slot: String, records: [DANERecord]) {
        self.service = service
        self.slot = slot
        self.records = records.sorted()
    }
}

/// What one authoritative name server of an apex served when sslm looked (at plan time).
public struct ServedTLSA: Sendable, Hashable, Codable {
    /// How messages name it: `ns2.example.com (127.0.0.1:5054)`, or the address for a configured server.
    public var server: String
    /// True for the `[[dns_primary]]`.
    public var isPrimary: Bool
    /// The apex's SOA serial it serves; nil when it did not answer.
    public var serial: UInt32?
    /// Keys (`DANERecord.key`) of the TLSA records it serves at the asked owners, sorted.
    public var records: [String]
    /// Why it could not be asked (timeout, refused, not authoritative); nil when every query was answered.
    public var failure: String?

    public init(server: String, isPrimary: Bool, serial: UInt32?, records: [String], failure: String?) {
        self.server = server
        self.isPrimary = isPrimary
        self.serial = serial
        self.records = records.sorted()
        self.failure = failure
    }
}

/// The DANE publication state of one apex: the records curr and next imply (from the certificates on
/// disk), what each authoritative name server serves of them, and since when each record has been served
/// by all of them.
///
/// Guarantees: `expected` is a function of the certificates and the DNS facts (so it is not part of the
/// observation's fingerprint); `servers` is nil when DNS was not asked (no next to roll, or DNS gathering
/// off) and then `failure` may say why; `firstSeen` comes from `.sslm/tlsa-published.json`, written by the
/// gatherer's caller, never by the planner. Not a validation of DNSSEC.
public struct DANEPublication: Sendable, Hashable, Codable {
    public var apex: String
    /// Per DANE service and slot, sorted by service then slot.
    public var expected: [DANESlotRecords]
    /// The primary first, then every other authoritative (and `dns_xtra_ns`) server; nil = not observed.
    public var servers: [ServedTLSA]?
    /// Why the servers could not be observed at all (no `[[dns_primary]]`, discovery failed).
    public var failure: String?
    /// `DANERecord.key` → the first time every server served it (without a gap since).
    public var firstSeen: [String: Date]

    public init(
        apex: String, expected: [DANESlotRecords], servers: [ServedTLSA]? = nil, failure: String? = nil,
        firstSeen: [String: Date] = [:]
    ) {
        self.apex = apex
        self.expected = expected.sorted { ($0.service, $0.slot) < ($1.service, $1.slot) }
        self.servers = servers
        self.failure = failure
        self.firstSeen = firstSeen
    }

    /// The records of `service`'s `slot`; nil when that slot has no certificate (or no records).
    public func records(service: String, slot: String) -> [DANERecord]? {
        expected.first { $0.service == service && $0.slot == slot }?.records
    }

    /// True when some service has records for both curr and next: a roll decision needs the name servers.
    public var needsServers: Bool {
        let withCurr = Set(expected.filter { $0.slot == "curr" && !$0.records.isEmpty }.map(\.service))
        return expected.contains { $0.slot == "next" && !$0.records.isEmpty && withCurr.contains($0.service) }
    }

    /// Every owner of the expected records, sorted, without repeats (what to ask the servers about).
    public var owners: [String] { Array(Set(expected.flatMap { $0.records.map(\.owner) })).sorted() }

    /// Keys served by every observed server; empty when not observed or any server failed.
    public var servedByAll: Set<String> {
        guard let servers, !servers.isEmpty, failure == nil, servers.allSatisfy({ $0.failure == nil }) else {
            return []
        }
        var result = Set(servers[0].records)
        for server in servers.dropFirst() { result.formIntersection(server.records) }
        return result
    }
}
