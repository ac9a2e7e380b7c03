import CLDNS
import SSLMCore

/// Typed DNS lookups (TXT, SOA serial, NS, A/AAAA, TLSA) at one explicitly given name server per call,
/// with libldns.
///
/// Never reads /etc/resolv.conf and never recurses on its own: the server must be an IP literal with a port.
/// NXDOMAIN and NODATA are answers (empty lists); no answer (timeout, refused) and error rcodes are
/// `DNSLookupError`s naming the server. Only records owned by the asked name count (no CNAME following).
/// Blocking (at most `timeoutSeconds × (retries + 1)`): run it off the main actor and off the cooperative
/// pool for long waits (`PropagationCheck` does). Calls may run concurrently.
public struct DNSQuery: Sendable {
    /// Seconds to wait for each attempt.
    public var timeoutSeconds: Double
    /// Attempts after the first one.
    public var retries: Int

    public init(timeoutSeconds: Double = 2, retries: Int = 1) {
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
    }

    private var resolver: PinnedResolver { PinnedResolver(timeoutSeconds: timeoutSeconds, retries: retries) }

    /// Every TXT string of `name`, one per record; a record of several character strings is concatenated
    /// (RFC 7208 style), so a long value chunked in the zone file compares whole. Bytes that are not UTF-8 are
    /// replaced. Order as served.
    public func txt(_ name: String, at server: NameserverAddress) -> Result<[String], DNSLookupError> {
        resolver.records(name, type: LDNS_RR_TYPE_TXT, typeName: "TXT", at: server) { record -> String? in
            var bytes: [UInt8] = []
            for index in 0..<ldns_rr_rd_count(record) {
                guard let field = PinnedResolver.field(record, index) else { continue }
                let raw = PinnedResolver.bytes(field)
                // a character-string: one length byte, then that many bytes
                guard let length = raw.first else { continue }
                bytes += raw.dropFirst().prefix(Int(length))
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The SOA serial of `zone` as `server` serves it. A server without an SOA record for exactly `zone`
    /// (not authoritative, or a name inside the zone) is a `.serverError` failure.
    public func soaSerial(_ zone: String, at server: NameserverAddress) -> Result<UInt32, DNSLookupError> {
        let found = resolver.records(zone, type: LDNS_RR_TYPE_SOA, typeName: "SOA", at: server) { record -> UInt32? in
            guard let field = PinnedResolver.field(record, 2), ldns_rdf_size(field) == 4 else { return nil }
            return ldns_rdf2native_int32(field)
        }
        switch found {
        case .failure(let error): return .failure(error)
        case .success(let serials):
            guard let serial = serials.first else {
                let name = PinnedResolver.normalised(zone) ?? zone
                return .failure(
                    DNSLookupError(
                        .serverError,
                        "SOA \(SafeName.printable(name)) at \(server): no SOA record in the answer "
                            + "(is the server authoritative for this zone?)"))
            }
            return .success(serial)
        }
    }

    /// The NS host names of `zone`: lowercase, without the trailing dot, sorted, without duplicates.
    public func nameservers(_ zone: String, at server: NameserverAddress) -> Result<[String], DNSLookupError> {
        resolver.records(zone, type: LDNS_RR_TYPE_NS, typeName: "NS", at: server) { record -> String? in
            guard let field = PinnedResolver.field(record, 0) else { return nil }
            return PinnedResolver.hostName(field)
        }
        .map { Set($0).sorted() }
    }

    /// The target of `name`'s CNAME record (lowercase, without the trailing dot), or nil when `name` has none.
    /// Used to follow an `_acme-challenge` delegation one step, at the zone's primary.
    public func cname(_ name: String, at server: NameserverAddress) -> Result<String?, DNSLookupError> {
        resolver.records(name, type: LDNS_RR_TYPE_CNAME, typeName: "CNAME", at: server) { record -> String? in
            guard let field = PinnedResolver.field(record, 0) else { return nil }
            return PinnedResolver.hostName(field)
        }
        .map(\.first)
    }

    /// The A and AAAA addresses of `host` (two queries; either failing fails the lookup): IPv4 first, each
    /// family sorted, IPv6 in its compressed form.
    public func addresses(_ host: String, at server: NameserverAddress) -> Result<[String], DNSLookupError> {
        let text: (UnsafeMutablePointer<ldns_rr>) -> String? = { record in
            guard let field = PinnedResolver.field(record, 0) else { return nil }
            return PinnedResolver.string(ldns_rdf2str(field))
        }
        let v4 = resolver.records(host, type: LDNS_RR_TYPE_A, typeName: "A", at: server, decode: text)
        guard case .success(let ipv4) = v4 else { return v4 }
        let v6 = resolver.records(host, type: LDNS_RR_TYPE_AAAA, typeName: "AAAA", at: server, decode: text)
        guard case .success(let ipv6) = v6 else { return v6 }
        return .success(Set(ipv4).sorted() + Set(ipv6).sorted())
    }

    /// The TLSA records of `name` (e.g. `_25._tcp.mail.example.com`), sorted by their text form.
    public func tlsa(_ name: String, at server: NameserverAddress) -> Result<[DNSTLSARecord], DNSLookupError> {
        tlsa(name, at: server, dnssecOK: false).map(\.value)
    }

    /// The TLSA records of `name` asked with the DO bit, and whether `server` set the AD flag on the answer
    /// (it validated the answer with DNSSEC). AD is only worth something from a validating resolver the
    /// caller trusts and reaches over a trusted path (here: loopback); an authoritative server never sets it.
    public func validatedTLSA(_ name: String, at server: NameserverAddress)
        -> Result<DNSAnswer<[DNSTLSARecord]>, DNSLookupError>
    {
        tlsa(name, at: server, dnssecOK: true)
    }

    private func tlsa(_ name: String, at server: NameserverAddress, dnssecOK: Bool)
        -> Result<DNSAnswer<[DNSTLSARecord]>, DNSLookupError>
    {
        resolver.answer(name, type: LDNS_RR_TYPE_TLSA, typeName: "TLSA", at: server, dnssecOK: dnssecOK) {
            record -> DNSTLSARecord? in
            guard let usage = PinnedResolver.field(record, 0), let selector = PinnedResolver.field(record, 1),
                let matching = PinnedResolver.field(record, 2), let data = PinnedResolver.field(record, 3),
                ldns_rdf_size(usage) == 1, ldns_rdf_size(selector) == 1, ldns_rdf_size(matching) == 1
            else { return nil }
            let hex = PinnedResolver.bytes(data).map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined()
            return DNSTLSARecord(
                usage: Int(ldns_rdf2native_int8(usage)), selector: Int(ldns_rdf2native_int8(selector)),
                matchingType: Int(ldns_rdf2native_int8(matching)), dataHex: hex)
        }
        .map { DNSAnswer(value: $0.values.sorted { $0.description < $1.description }, authenticated: $0.authenticated) }
    }
}

/// A lookup's value and whether the answering server set the AD flag (RFC 4035 §3.2.3: it validated every
/// record of the answer with DNSSEC). Only meaningful from a validating resolver the caller trusts.
public struct DNSAnswer<Value: Sendable>: Sendable {
    public var value: Value
    /// The AD flag of the answer.
    public var authenticated: Bool

    public init(value: Value, authenticated: Bool) {
        self.value = value
        self.authenticated = authenticated
    }
}
